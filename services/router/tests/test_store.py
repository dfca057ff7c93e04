"""The router's state on real SQLite and PostgreSQL: migrations, concurrent assignment, load from tickets."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from priyom_contracts import ContactRouted, Event, TicketCreated, TicketStatus, TicketStatusChanged
from priyom_kit.db import Database
from priyom_router import handlers, store
from priyom_router.active_rules import ActiveRules
from priyom_router.rules import default_rule_text
from priyom_router.tables import metadata

from .conftest import client, identified

SERVICE_TEAM = ["Олег Петров", "Светлана Сидорова", "Игорь Ким"]


async def test_migrations_match_the_tables(database: Database) -> None:
    async with database.sessions() as session:
        conn = await session.connection()
        diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync, opts={
            "compare_type": True, "include_name": lambda name, kind, _: name != store.VERSION_TABLE}), metadata))
    assert diff == []


class Published:
    """What the handler published, in order: the bus's publish is a dependency, passed in."""

    def __init__(self) -> None:
        self.events: list[ContactRouted] = []

    async def __call__(self, event: Event) -> None:
        assert isinstance(event, ContactRouted)
        self.events.append(event)


async def route_all(database: Database, events, published: Published) -> None:
    rules = ActiveRules(default_rule_text())
    await asyncio.gather(*(handlers.on_contact_identified(e, sessions=database.sessions, rules=rules,
                                                          second_opinion=None, publish=published)
                           for e in events))


async def test_concurrent_contacts_never_give_an_agent_two_while_another_has_none(database: Database) -> None:
    published = Published()
    await route_all(database, [identified(f"Терминал №{i} сломался") for i in range(3)], published)
    first_wave = Counter(e.routing.assignee for e in published.events)
    assert sorted(first_wave) == sorted(SERVICE_TEAM) and set(first_wave.values()) == {1}

    await route_all(database, [identified(f"Касса №{i} не работает") for i in range(6)], published)
    totals = Counter(e.routing.assignee for e in published.events)
    assert totals == {name: 3 for name in SERVICE_TEAM}
    async with database.sessions() as session:
        assert await store.open_loads(session) == {name: 3 for name in SERVICE_TEAM}


async def test_redelivery_publishes_the_same_decision_and_counts_once(database: Database) -> None:
    published = Published()
    event = identified("Терминал сломался")
    await route_all(database, [event, event, event], published)
    assert len({e.routing.model_dump_json() for e in published.events}) == 1
    async with database.sessions() as session:
        assert sum((await store.open_loads(session)).values()) == 1


async def test_ticket_events_keep_the_load_current(database: Database) -> None:
    published = Published()
    events = [identified("Терминал сломался") for _ in range(2)]
    await route_all(database, events, published)
    first, second = published.events
    assert first.routing.assignee != second.routing.assignee

    async def ticket(routed: ContactRouted, number: str, assignee: str | None) -> None:
        created = TicketCreated(
            correlation_id=routed.correlation_id, channel=routed.channel, idempotency_key=routed.idempotency_key,
            number=number, contact_id=routed.contact.contact_id, client_id=routed.client.client_id,
            first_contact=False, type=routed.routing.type, urgency=routed.routing.urgency,
            status=TicketStatus.NEW, team=routed.routing.team, assignee=assignee,
            first_response_due_at=routed.routing.first_response_due_at,
            resolution_due_at=routed.routing.resolution_due_at)
        await handlers.on_ticket_event(created.model_dump(mode="json"), TicketCreated.type_name(),
                                       sessions=database.sessions)

    # The tickets service reassigned the second ticket to the first agent: both now weigh on them.
    await ticket(first, "2026-000001", first.routing.assignee)
    await ticket(second, "2026-000002", first.routing.assignee)
    async with database.sessions() as session:
        assert await store.open_loads(session) == {first.routing.assignee: 2}

    closed = TicketStatusChanged(correlation_id=first.correlation_id, channel="email", idempotency_key="k1",
                                 number="2026-000001", old_status=TicketStatus.NEW,
                                 new_status=TicketStatus.RESOLVED, changed_by="agent")
    await handlers.on_ticket_event(closed.model_dump(mode="json"), TicketStatusChanged.type_name(),
                                   sessions=database.sessions)
    # A stale, earlier event arriving late does not reopen it.
    stale = closed.model_copy(update={"new_status": TicketStatus.OPEN, "message_id": uuid.uuid4(),
                                      "occurred_at": closed.occurred_at.replace(year=2025)})
    await handlers.on_ticket_event(stale.model_dump(mode="json"), TicketStatusChanged.type_name(),
                                   sessions=database.sessions)
    async with database.sessions() as session:
        assert await store.open_loads(session) == {first.routing.assignee: 1}


async def test_unavailable_agents_are_skipped_and_a_full_team_waits(database: Database) -> None:
    async with database.sessions() as session, session.begin():
        await store.set_availability(session, "Олег Петров", False)
        await store.set_availability(session, "Игорь Ким", False)
    published = Published()
    await route_all(database, [identified("сломался")], published)
    assert published.events[0].routing.assignee == "Светлана Сидорова"
    async with database.sessions() as session, session.begin():
        await store.set_availability(session, "Светлана Сидорова", False)
    await route_all(database, [identified("сломался", match=client())], published)
    waiting = published.events[1].routing
    assert (waiting.team, waiting.assignee) == ("service", None)
    assert "waits in the team queue" in waiting.trail[-1]
