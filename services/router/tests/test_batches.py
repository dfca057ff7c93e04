"""Contacts routed in batches (one transaction each, as the service does under load) are routed as they are one
at a time: balanced across the team, a repeat in the same batch decided and counted once, every decision sent."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import delete, select
from sqlalchemy import event as engine_events

from priyom_contracts import TicketStatus
from priyom_kit.batches import Batches
from priyom_kit.db import Database
from priyom_router import handlers, store
from priyom_router.handlers import Basis
from priyom_router.tables import assignments

from .conftest import client, identified, ticket_created
from .test_store import RULES, SERVICE_TEAM, Published


async def test_a_batch_balances_the_team_and_decides_a_repeat_once(database: Database) -> None:
    published = Published()
    relay = published.relay(database)
    first = [identified(f"Касса №{i} не запускается") for i in range(6)]
    routed = await handlers.on_contacts_identified([*first, first[0]], sessions=database.sessions, rules=RULES,
                                                   second_opinion=None, relay=relay)
    assert len(routed) == 7 and routed[6].routing == routed[0].routing, "the repeat gets the decision made"
    assert Counter(r.routing.assignee for r in routed[:6]) == {name: 2 for name in SERVICE_TEAM}
    async with database.sessions() as session:
        assert await store.open_loads(session) == {name: 2 for name in SERVICE_TEAM}
    assert sorted(e.idempotency_key for e in published.events) == sorted(e.idempotency_key for e in [*first, first[0]])


async def test_the_service_path_groups_concurrent_contacts_and_routes_each(database: Database) -> None:
    published = Published()
    relay = published.relay(database)
    alone: list[object] = []

    async def route_alone(event):  # noqa: ANN001, ANN202 - the handler's own types
        alone.append(event)
        return await handlers.on_contact_identified(event, sessions=database.sessions, rules=RULES,
                                                    second_opinion=None, relay=relay)

    batches = Batches(
        lambda events, within: handlers.on_contacts_identified(events, within, sessions=database.sessions,
                                                               rules=RULES, second_opinion=None, relay=relay),
        route_alone, size=32)
    events = [identified(f"Терминал №{i} не запускается") for i in range(9)]

    routed = await asyncio.gather(*(batches.submit(e) for e in events))
    assert batches.batches < len(events), "grouped"
    assert len(alone) <= 1, "only a lone first delivery goes alone: the batches were routed together"
    assert [r.idempotency_key for r in routed] == [e.idempotency_key for e in events]
    assert Counter(r.routing.assignee for r in routed) == {name: 3 for name in SERVICE_TEAM}


async def test_a_group_lock_is_taken_once_a_transaction(database: Database) -> None:
    async with database.sessions() as session, session.begin():
        basis = await Basis.read(session, RULES)
        for i in range(3):
            await handlers.route_and_record(session, identified(f"Касса №{i} не запускается"), RULES, None, basis)
        assert len(basis.locked) == 1


async def test_tickets_created_together_each_weigh_on_their_assignee(database: Database) -> None:
    published = Published()
    events = [identified(f"Касса №{i} не запускается") for i in range(3)]
    routed = await handlers.on_contacts_identified(events, sessions=database.sessions, rules=RULES,
                                                   second_opinion=None, relay=published.relay(database))
    # The agent each ticket went to: the first moved to a colleague by the tickets service.
    created = [ticket_created(r, f"2026-00010{i}", assignee=SERVICE_TEAM[0] if i == 0 else None)
               for i, r in enumerate(routed)]
    assert await handlers.on_tickets_created(created, sessions=database.sessions) == [None] * 3
    async with database.sessions() as session:
        loads = await store.open_loads(session)
    expected = Counter([SERVICE_TEAM[0], *(r.routing.assignee for r in routed[1:])])
    assert loads == dict(expected)


async def test_tickets_created_together_are_one_statement_and_a_repeat_ends_as_the_later_says(
        database: Database) -> None:
    routed = await handlers.on_contacts_identified([identified(f"Касса №{i} не запускается") for i in range(4)],
                                                   sessions=database.sessions, rules=RULES, second_opinion=None,
                                                   relay=Published().relay(database))
    created = [ticket_created(r, f"2026-00020{i}") for i, r in enumerate(routed)]
    # The first ticket announced again in the same batch, closed meanwhile: it then weighs on nobody.
    created.append(ticket_created(routed[0], "2026-000200", status=TicketStatus.CLOSED))
    writes: list[tuple[str, bool]] = []
    assert database._engine is not None
    engine_events.listen(database._engine.sync_engine, "before_cursor_execute",
                         lambda _c, _cur, statement, _p, _context, many: writes.append((statement, many)))
    await handlers.on_tickets_created(created, sessions=database.sessions)
    assert [many for statement, many in writes if statement.startswith("INSERT INTO assignments")] == [True]
    async with database.sessions() as session:
        loads = await store.open_loads(session)
        numbers = dict((await session.execute(select(assignments.c.contact_id, assignments.c.ticket_number))).all())
    assert loads == dict(Counter(r.routing.assignee for r in routed[1:]))
    assert numbers == {r.contact.contact_id: f"2026-00020{i}" for i, r in enumerate(routed)}


async def test_a_batch_counts_a_client_managers_contact_in_the_balance_as_one_at_a_time_does(
        database: Database) -> None:
    """A group's roster is read once a batch and kept current: a contact that went to the client's own manager
    (no balanced pick) must weigh on the manager in the picks after it, as a fresh read would show."""
    manager = SERVICE_TEAM[0]

    def contacts() -> list:  # noqa: ANN202 - a list of the conftest's events
        return [identified("Касса №1 не запускается"),
                *(identified(f"Касса №{i} не запускается", match=client(manager=manager)) for i in (2, 3)),
                *(identified(f"Касса №{i} не запускается") for i in range(4, 8))]

    relay = Published().relay(database)
    for event in contacts():
        await handlers.on_contact_identified(event, sessions=database.sessions, rules=RULES, second_opinion=None,
                                             relay=relay)
    async with database.sessions() as session, session.begin():
        alone = await store.open_loads(session)
        await session.execute(delete(assignments))
    await handlers.on_contacts_identified(contacts(), sessions=database.sessions, rules=RULES,
                                          second_opinion=None, relay=relay)
    async with database.sessions() as session:
        together = await store.open_loads(session)
    assert together == alone
    assert alone[manager] >= 2 and sum(alone.values()) == 7
