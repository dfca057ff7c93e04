"""Load balancing under concurrent contacts, on real SQLite and PostgreSQL, in one process and in two.

The guarantee: no agent gets a second contact while another eligible one has none. It is checked on the
recorded assignments, replayed in the order they were recorded (the balancing lock makes that the order the
picks were taken): every balanced pick went to a member with the fewest open contacts of its team at that
moment, counting every contact recorded before it, whichever team it came from.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from priyom_contracts import ContactIdentified, ContactRouted
from priyom_kit import Bus
from priyom_kit.db import Database
from priyom_kit.testing import bus_tap, migrated_database
from priyom_router import handlers
from priyom_router.active_rules import ActiveRules
from priyom_router.rules import RuleBook, default_rule_text, parse_rule_book
from priyom_router.settings import RouterSettings
from priyom_router.store import migrate_database
from priyom_router.tables import assignments

from .conftest import identified
from .test_store import Published

#: The default book, with Игорь Ким also in quality: service and quality become one balancing group, so
#: picks in one team must see the contacts the other just gave him.
OVERLAPPING = default_rule_text().replace("members: [Ирина Соколова, Елена Белова]",
                                          "members: [Ирина Соколова, Елена Белова, Игорь Ким]", 1)
TEXTS = ["Терминал №{i} не запускается", "Пишу жалобу №{i}: курьер нагрубил", "Подскажите, как оплатить счёт №{i}?"]


async def picks_in_order(database: Database) -> list[tuple[str, str, str]]:
    """(team, assignee, trail's last line) of every assigned contact, in the order they were recorded."""
    async with database.sessions() as session:
        rows = await session.execute(select(assignments.c.team, assignments.c.assignee, assignments.c.routing)
                                     .where(assignments.c.assignee.is_not(None))
                                     .order_by(assignments.c.routed_at))
        return [(r.team, r.assignee, r.routing["trail"][-1]) for r in rows]


def assert_every_pick_least_loaded(picks: list[tuple[str, str, str]], book: RuleBook) -> None:
    loads: Counter[str] = Counter()
    for n, (team, assignee, why) in enumerate(picks):
        members = book.team(team).members  # type: ignore[union-attr]
        fewest = min(loads[m] for m in members)
        assert loads[assignee] == fewest, (
            f"pick {n}: {assignee} in {team} had {loads[assignee]} open while a teammate had {fewest} ({why})")
        assert why == f"{assignee} in {team} (fewest open tickets, {fewest} open)"
        loads[assignee] += 1


@pytest.mark.parametrize("text", [default_rule_text(), OVERLAPPING], ids=["separate-teams", "shared-member"])
async def test_many_concurrent_contacts_never_give_an_agent_two_while_another_has_none(
        database: Database, text: str) -> None:
    rules, book = ActiveRules(text), parse_rule_book(text)
    events = [identified(TEXTS[i % 3].format(i=i)) for i in range(60)]
    published = Published()
    await asyncio.gather(*(handlers.on_contact_identified(e, sessions=database.sessions, rules=rules,
                                                          second_opinion=None, relay=published.relay(database))
                           for e in events))
    assert len(published.events) == 60
    picks = await picks_in_order(database)
    assert len(picks) == 60 and {t for t, _, _ in picks} == {"service", "quality", "support"}
    assert_every_pick_least_loaded(picks, book)
    if text == default_rule_text():
        counts = Counter(a for _, a, _ in picks)
        assert counts == {"Олег Петров": 7, "Светлана Сидорова": 7, "Игорь Ким": 6, "Ирина Соколова": 10,
                          "Елена Белова": 10, "Анна Орлова": 10, "Павел Зуев": 10}


# -- two router processes on one PostgreSQL database -----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("two router processes share PostgreSQL; on SQLite the database itself serialises writers")
    return database_url


@pytest.fixture
def two_routers(postgres_url: str, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> Iterator[list[str]]:
    migrate_database(postgres_url)
    env = {**os.environ, "ROUTER_DATABASE_URL": postgres_url, "AMQP_URL": amqp_url,
           "PRIYOM_BUS_PREFIX": cleanup_bus, "PRIYOM_ADMIN_TOKEN": "router-balancing-admin-token",
           "ROUTER_QUEUE_SWEEP_SECONDS": "0", "LOG_LEVEL": "WARNING"}
    processes, urls = [], []
    try:
        for n in range(2):
            port = free_port()
            log = (tmp_path / f"router{n}.log").open("wb")
            processes.append(subprocess.Popen([sys.executable, "-m", "priyom_router", "serve"],
                                              env={**env, "ROUTER_PORT": str(port)}, stdout=log,
                                              stderr=subprocess.STDOUT))
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


async def wait_healthy(url: str, timeout: float = 60) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(int(timeout * 10)):
            try:
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"router at {url} did not become healthy")


async def contacts_handled(url: str) -> int:
    """How many contact.identified this router process consumed, from its Prometheus metrics."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{url}/metrics")).text
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith("faststream_received_messages_total{") and ".contact.identified.v1." in line)


async def test_two_router_processes_balance_as_one(two_routers: list[str], postgres_url: str, amqp_url: str,
                                                   cleanup_bus: str) -> None:
    await asyncio.gather(*(wait_healthy(u) for u in two_routers))
    settings = RouterSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus)
    publisher = Bus(settings, "router-test", CollectorRegistry())
    await publisher.start()
    events: list[ContactIdentified] = [identified(f"Терминал №{i} не запускается") for i in range(45)]
    try:
        async with bus_tap(amqp_url, cleanup_bus, "contact.routed.v1.*") as routed:
            await asyncio.gather(*(publisher.publish(e) for e in events))
            out = [ContactRouted.model_validate_json((await routed.next(timeout=60)).body) for _ in events]
    finally:
        await publisher.stop()
    assert {o.correlation_id for o in out} == {e.correlation_id for e in events}
    handled = [await contacts_handled(u) for u in two_routers]
    assert sum(handled) == len(events) and min(handled) > 0, handled
    async with migrated_database(postgres_url, migrate_database) as database:
        picks = await picks_in_order(database)
    assert Counter(a for _, a, _ in picks) == {"Олег Петров": 15, "Светлана Сидорова": 15, "Игорь Ким": 15}
    assert_every_pick_least_loaded(picks, parse_rule_book(default_rule_text()))


async def test_round_robin_under_concurrent_contacts_takes_strict_turns(database: Database) -> None:
    text = default_rule_text().replace("balancing: least_loaded", "balancing: round_robin", 1)
    assert "balancing: round_robin" in text
    rules, published = ActiveRules(text), Published()
    await asyncio.gather(*(handlers.on_contact_identified(identified(f"Терминал №{i} не запускается"),
                                                          sessions=database.sessions, rules=rules,
                                                          second_opinion=None, relay=published.relay(database))
                           for i in range(30)))
    picks = [a for _, a, _ in await picks_in_order(database)]
    # Each pick continued from the one recorded before it: the team's members in file order, over and over.
    assert picks == ["Олег Петров", "Светлана Сидорова", "Игорь Ким"] * 10
