"""The router on the real RabbitMQ: contact.identified in, contact.routed out; ticket events move the load."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator

import aio_pika
import httpx
import pytest
from fastapi import FastAPI

from priyom_contracts import (
    ContactAssigned,
    ContactRouted,
    TicketAssigned,
    TicketCreated,
    TicketStatus,
    TicketStatusChanged,
    Topology,
)
from priyom_kit import ServiceParts
from priyom_kit.testing import Tap, bus_tap, dead_letter_tap
from priyom_router.settings import RouterSettings

from .conftest import identified, ticket_created


@pytest.fixture
async def routed(app: FastAPI, amqp_url: str, settings: RouterSettings) -> AsyncIterator[Tap]:
    async with bus_tap(amqp_url, settings.bus_prefix, "contact.routed.v1.*") as tap:
        yield tap


@pytest.fixture
async def dead_letters(app: FastAPI, amqp_url: str, settings: RouterSettings) -> AsyncIterator[Tap]:
    async with dead_letter_tap(amqp_url, settings.bus_prefix) as tap:
        yield tap


async def test_concurrent_contacts_on_the_bus_are_balanced(parts: ServiceParts, routed: Tap) -> None:
    events = [identified(f"Терминал {i} не запускается") for i in range(6)]
    await asyncio.gather(*(parts.bus.publish(e) for e in events))
    out = [ContactRouted.model_validate_json((await routed.next()).body) for _ in events]
    assert {o.correlation_id for o in out} == {e.correlation_id for e in events}
    counts = Counter(o.routing.assignee for o in out)
    assert counts == {"Олег Петров": 2, "Светлана Сидорова": 2, "Игорь Ким": 2}
    assert all(o.routing.rule == "fault" and o.routing.priority == 3 for o in out)


async def test_ticket_events_reach_the_router_and_free_the_agent(parts: ServiceParts, routed: Tap,
                                                                 http: httpx.AsyncClient) -> None:
    await parts.bus.publish(identified("Терминал не запускается"))
    first = ContactRouted.model_validate_json((await routed.next()).body)
    r = first.routing
    created = ticket_created(first, "2026-000042", status=TicketStatus.RESOLVED)

    async def load() -> int:
        agents = {a["name"]: a for a in (await http.get("/api/v1/agents")).json()}
        return agents[r.assignee]["open_tickets"]

    assert await load() == 1
    await parts.bus.publish(created)  # created already resolved: the agent is free again
    for _ in range(200):
        if await load() == 0:
            break
        await asyncio.sleep(0.05)
    assert await load() == 0


async def test_a_ticket_an_agent_hands_over_moves_its_load_on_the_bus(parts: ServiceParts, routed: Tap,
                                                                       http: httpx.AsyncClient) -> None:
    await parts.bus.publish(identified("Терминал не запускается"))
    first = ContactRouted.model_validate_json((await routed.next()).body)
    mine = first.routing.assignee
    other = next(n for n in ("Олег Петров", "Светлана Сидорова", "Игорь Ким") if n != mine)
    await parts.bus.publish(ticket_created(first, "2026-000043"))

    async def loads() -> dict[str, int]:
        return {a["name"]: a["open_tickets"] for a in (await http.get("/api/v1/agents")).json()}

    # Sent at once: if it overtakes ticket.created, it is retried until the router knows the ticket.
    await parts.bus.publish(TicketAssigned(
        correlation_id=first.correlation_id, channel="web", idempotency_key="2026-000043:7", number="2026-000043",
        team=first.routing.team, assignee=other, old_assignee=mine, assigned_by="Смирнов"))
    for _ in range(200):
        if (await loads())[other] == 1:
            break
        await asyncio.sleep(0.05)
    assert ((await loads())[mine], (await loads())[other]) == (0, 1)


@pytest.mark.parametrize(("number", "message_type", "routing_key", "error"), [
    # A body its type's model cannot read.
    ("x", TicketCreated.type_name(), f"{TicketCreated.type_name()}.web", "ValidationError"),
    # A type the queue's bindings let in but none of its typed handlers takes.
    ("2026-000001", "ticket.reopened.v1", f"{TicketStatusChanged.type_name()}.web",
     "no handler for message type 'ticket.reopened.v1'"),
], ids=["unreadable", "no-handler"])
async def test_a_ticket_event_that_cannot_succeed_is_dead_lettered_at_once_with_the_reason(
        parts: ServiceParts, dead_letters: Tap, amqp_url: str, settings: RouterSettings, number: str,
        message_type: str, routing_key: str, error: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(settings.bus_prefix).exchange)
        await exchange.publish(aio_pika.Message(json.dumps({"number": number}).encode(),
                                                type=message_type, content_type="application/json"),
                               routing_key=routing_key, mandatory=True)
    dead = await dead_letters.next()
    assert dead.headers["x-original-queue"] == f"{settings.bus_prefix}router.tickets"
    assert (dead.headers["x-error-kind"], dead.headers["x-attempts"]) == ("permanent", 1)
    assert error in str(dead.headers["x-error"])


async def test_an_agent_back_at_work_takes_the_waiting_contact(parts: ServiceParts, routed: Tap,
                                                               http: httpx.AsyncClient, amqp_url: str,
                                                               settings: RouterSettings) -> None:
    teams = (await http.get("/api/v1/teams")).json()
    for team in teams:
        if team["name"] == "service":
            team["hours"] = None  # around the clock, so the test does not depend on when it runs
    assert (await http.put("/api/v1/teams", json=teams)).status_code == 201
    for name in ("Олег Петров", "Светлана Сидорова", "Игорь Ким"):
        await http.put(f"/api/v1/agents/{name}/availability", json={"available": False})
    event = identified("Терминал не запускается")
    async with bus_tap(amqp_url, settings.bus_prefix, "contact.assigned.v1.*") as assigned_tap:
        await parts.bus.publish(event)
        waiting = ContactRouted.model_validate_json((await routed.next()).body).routing
        assert (waiting.team, waiting.assignee) == ("service", None)
        await http.put("/api/v1/agents/Игорь Ким/availability", json={"available": True})
        assigned = ContactAssigned.model_validate_json((await assigned_tap.next()).body)
    assert (assigned.contact_id, assigned.assignee, assigned.team) == (event.contact.contact_id, "Игорь Ким",
                                                                       "service")
