"""Working-hours triggers: contacts that waited outside a team's hours get an agent when the hours start.

Time is injected: the sweep is asked about chosen moments, and the sweeper's loop is driven by a wait the
test releases, so nothing here sleeps.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from priyom_kit.db import Database
from priyom_router import handlers, store
from priyom_router.active_rules import ActiveRules
from priyom_router.queue_sweep import QueueSweeper, sweep_queues
from priyom_router.rules import default_rule_text

from .conftest import identified
from .test_store import Published

RULES = ActiveRules(default_rule_text())
SALES = ["Дмитрий Лебедев", "Мария Киселёва"]
#: Saturday 12:00 in Moscow: sales (Mon–Fri 09:00–18:00, after_hours: queue) is closed.
SATURDAY_NOON = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
MONDAY_0859 = datetime(2026, 11, 30, 5, 59, tzinfo=UTC)
MONDAY_0900 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


async def route_leads(database: Database, published: Published, n: int) -> list:
    events = [identified(f"Сколько стоит {10 + i} лицензий?", received_at=SATURDAY_NOON)
              for i in range(n)]
    for event in events:
        await handlers.on_contact_identified(event, sessions=database.sessions, rules=RULES, second_opinion=None,
                                             relay=published.relay(database))
    return events


async def test_leads_waiting_over_the_weekend_are_assigned_when_sales_opens(database: Database) -> None:
    published = Published()
    events = await route_leads(database, published, 3)
    assert [(e.routing.team, e.routing.assignee) for e in published.events] == [("sales", None)] * 3
    assert "waits in its queue" in published.events[0].routing.trail[-1]

    for moment in (SATURDAY_NOON.replace(hour=10), MONDAY_0859):
        assert await sweep_queues(database.sessions, RULES, published.relay(database), moment) == []

    assigned = await sweep_queues(database.sessions, RULES, published.relay(database), MONDAY_0900)
    assert [a.contact_id for a in assigned] == [e.contact.contact_id for e in events]  # oldest first
    assert [a.assignee for a in assigned] == [SALES[0], SALES[1], SALES[0]]  # balanced, as if just arrived
    assert {a.team for a in assigned} == {"sales"} and published.assigned == assigned
    assert assigned[0].reason == f"sales at work (Mon 09:00): {SALES[0]} took it from the queue (0 open)"
    async with database.sessions() as session:
        assert await store.open_loads(session) == {SALES[0]: 2, SALES[1]: 1}
        routing = await store.recorded_routing(session, events[1].contact.contact_id)
        assert routing is not None and routing.assignee == SALES[1] and routing.trail[-1] == assigned[1].reason
    # Taken once: a second round, or another instance's, finds the queue empty.
    assert await sweep_queues(database.sessions, RULES, published.relay(database), MONDAY_0900) == []


async def test_nobody_available_at_opening_keeps_the_contact_waiting(database: Database) -> None:
    published = Published()
    [event] = await route_leads(database, published, 1)
    async with database.sessions() as session, session.begin():
        for name in SALES:
            await store.set_availability(session, name, False)
    assert await sweep_queues(database.sessions, RULES, published.relay(database), MONDAY_0900) == []
    async with database.sessions() as session, session.begin():
        await store.set_availability(session, SALES[1], True)
    [assigned] = await sweep_queues(database.sessions, RULES, published.relay(database), MONDAY_0900)
    assert (assigned.contact_id, assigned.assignee) == (event.contact.contact_id, SALES[1])


async def test_the_sweeper_runs_rounds_on_its_clock(database: Database) -> None:
    published = Published()
    await route_leads(database, published, 2)
    now = [SATURDAY_NOON]
    rounds: asyncio.Queue[None] = asyncio.Queue()
    waiting_again = asyncio.Event()
    waits: list[float] = []

    async def wait(seconds: float) -> None:  # released by the test instead of by time passing
        waits.append(seconds)
        waiting_again.set()
        await rounds.get()

    sweeper = QueueSweeper(lambda: database.sessions, RULES, published.relay(database), interval_s=60, clock=lambda: now[0],
                           wait=wait)
    await sweeper.start()
    try:
        async def one_round() -> None:
            await asyncio.wait_for(waiting_again.wait(), 30)
            waiting_again.clear()
            rounds.put_nowait(None)
            await asyncio.wait_for(waiting_again.wait(), 30)  # the round ran; the sweeper waits again

        await one_round()
        assert published.assigned == []
        now[0] = MONDAY_0900
        await one_round()
        assert sorted(a.assignee for a in published.assigned) == sorted(SALES)
        assert waits and set(waits) == {60}
    finally:
        await sweeper.stop()


async def test_a_contact_waiting_in_hours_for_a_free_agent_is_left_to_the_agents(database: Database) -> None:
    """Only contacts that came while the team was closed are handed over at opening; one that waits because
    everybody was away is pulled by the next agent who frees up, at the pace they finish work."""
    published = Published()
    async with database.sessions() as session, session.begin():
        for name in SALES:
            await store.set_availability(session, name, False)
    tuesday = MONDAY_0900.replace(day=1, month=12)  # Tuesday 09:00 in Moscow, sales at work
    event = identified("Сколько стоят лицензии?", received_at=tuesday)
    await handlers.on_contact_identified(event, sessions=database.sessions, rules=RULES, second_opinion=None,
                                         relay=published.relay(database))
    assert published.events[0].routing.assignee is None
    async with database.sessions() as session, session.begin():
        await store.set_availability(session, SALES[0], True)
    assert await sweep_queues(database.sessions, RULES, published.relay(database), tuesday.replace(hour=7)) == []
    taken = await handlers.offer_waiting_work(SALES[0], sessions=database.sessions, rules=RULES,
                                              relay=published.relay(database), now=tuesday.replace(hour=7))
    assert taken is not None and taken.contact_id == event.contact.contact_id
