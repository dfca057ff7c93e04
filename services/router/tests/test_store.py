"""The router's state on real SQLite and PostgreSQL: migrations, concurrent assignment, load from tickets."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from priyom_contracts import (
    AutomatedKind,
    ContactAssigned,
    ContactRouted,
    Event,
    TicketAssigned,
    TicketStatus,
    TicketStatusChanged,
    utcnow,
)
from priyom_kit.db import Database
from priyom_kit.outbox import Relay
from priyom_router import handlers, store
from priyom_router.active_rules import ActiveRules
from priyom_router.rules import default_rule_text
from priyom_router.tables import metadata, router_outbox

from .conftest import WEDNESDAY_NOON, client, identified, ticket_created

SERVICE_TEAM = ["Олег Петров", "Светлана Сидорова", "Игорь Ким"]


async def test_migrations_match_the_tables(database: Database) -> None:
    async with database.sessions() as session:
        conn = await session.connection()
        diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync, opts={
            "compare_type": True, "include_name": lambda name, kind, _: name != store.VERSION_TABLE}), metadata))
    assert diff == []


class Published:
    """What the handlers published, in order: the bus's publish is a dependency, passed in."""

    def __init__(self) -> None:
        self.events: list[ContactRouted] = []
        self.assigned: list[ContactAssigned] = []

    def relay(self, database: Database) -> Relay:
        """The router's outbox relay on ``database``, sending here: one per test, as the service has one."""
        if getattr(self, "_relay", None) is None:
            self._relay = Relay(lambda: database.sessions, self, router_outbox)
        return self._relay

    async def __call__(self, event: Event) -> None:
        if isinstance(event, ContactAssigned):
            self.assigned.append(event)
        else:
            assert isinstance(event, ContactRouted)
            self.events.append(event)


RULES = ActiveRules(default_rule_text())


async def route_all(database: Database, events, published: Published) -> None:
    await asyncio.gather(*(handlers.on_contact_identified(e, sessions=database.sessions, rules=RULES,
                                                          second_opinion=None, relay=published.relay(database))
                           for e in events))


async def test_concurrent_contacts_never_give_an_agent_two_while_another_has_none(database: Database) -> None:
    published = Published()
    await route_all(database, [identified(f"Терминал №{i} не запускается") for i in range(3)], published)
    first_wave = Counter(e.routing.assignee for e in published.events)
    assert sorted(first_wave) == sorted(SERVICE_TEAM) and set(first_wave.values()) == {1}

    await route_all(database, [identified(f"Касса №{i} не запускается") for i in range(6)], published)
    totals = Counter(e.routing.assignee for e in published.events)
    assert totals == {name: 3 for name in SERVICE_TEAM}
    async with database.sessions() as session:
        assert await store.open_loads(session) == {name: 3 for name in SERVICE_TEAM}


async def test_redelivery_publishes_the_same_decision_and_counts_once(database: Database) -> None:
    published = Published()
    event = identified("Терминал не запускается")
    await route_all(database, [event, event, event], published)
    assert len({e.routing.model_dump_json() for e in published.events}) == 1
    async with database.sessions() as session:
        assert sum((await store.open_loads(session)).values()) == 1


async def test_ticket_events_keep_the_load_current(database: Database) -> None:
    published = Published()
    events = [identified("Терминал не запускается") for _ in range(2)]
    await route_all(database, events, published)
    first, second = published.events
    assert first.routing.assignee != second.routing.assignee

    async def ticket(routed: ContactRouted, number: str, assignee: str | None) -> None:
        created = ticket_created(routed, number, assignee=assignee)
        await handlers.on_ticket_created(created, sessions=database.sessions)

    # The tickets service reassigned the second ticket to the first agent: both now weigh on them.
    await ticket(first, "2026-000001", first.routing.assignee)
    await ticket(second, "2026-000002", first.routing.assignee)
    async with database.sessions() as session:
        assert await store.open_loads(session) == {first.routing.assignee: 2}

    closed = TicketStatusChanged(correlation_id=first.correlation_id, channel="email", idempotency_key="k1",
                                 number="2026-000001", old_status=TicketStatus.NEW,
                                 new_status=TicketStatus.RESOLVED, changed_by="agent")
    await handlers.on_ticket_status_changed(closed, sessions=database.sessions, rules=RULES, relay=Published().relay(database))
    # A stale, earlier event arriving late does not reopen it.
    stale = closed.model_copy(update={"new_status": TicketStatus.OPEN, "message_id": uuid.uuid4(),
                                      "occurred_at": closed.occurred_at.replace(year=2025)})
    await handlers.on_ticket_status_changed(stale, sessions=database.sessions, rules=RULES, relay=Published().relay(database))
    async with database.sessions() as session:
        assert await store.open_loads(session) == {first.routing.assignee: 1}


async def test_an_agents_reassignment_in_the_console_moves_the_load(database: Database) -> None:
    published = Published()
    await route_all(database, [identified("Терминал не запускается")], published)
    (routed,) = published.events
    mine, other = routed.routing.assignee, next(n for n in SERVICE_TEAM if n != routed.routing.assignee)
    await handlers.on_ticket_created(ticket_created(routed, "2026-000001", assignee=mine), sessions=database.sessions)

    def moved(assignee: str | None, old: str | None) -> TicketAssigned:
        return TicketAssigned(correlation_id=routed.correlation_id, channel="email", idempotency_key=f"k:{assignee}",
                              number="2026-000001", team="service", assignee=assignee, old_assignee=old,
                              assigned_by="Смирнов")

    relay = Published().relay(database)
    await handlers.on_ticket_assigned(moved(other, mine), sessions=database.sessions, rules=RULES, relay=relay)
    async with database.sessions() as session:
        assert await store.open_loads(session) == {other: 1}
    # Back to the team's queue: nobody carries it, and it waits to be given out.
    await handlers.on_ticket_assigned(moved(None, other), sessions=database.sessions, rules=RULES, relay=relay)
    async with database.sessions() as session:
        assert await store.open_loads(session) == {}
        assert [w.ticket_number for w in await store.queue(session, ["service"], limit=5)] == ["2026-000001"]
    unknown = moved(mine, None).model_copy(update={"number": "2026-000404"})
    try:
        await handlers.on_ticket_assigned(unknown, sessions=database.sessions, rules=RULES, relay=relay)
    except LookupError:
        pass
    else:
        raise AssertionError("a ticket the router has not heard of is retried, not dropped")


async def test_unavailable_agents_are_skipped_and_a_full_team_waits(database: Database) -> None:
    async with database.sessions() as session, session.begin():
        await store.set_availability(session, "Олег Петров", False)
        await store.set_availability(session, "Игорь Ким", False)
    published = Published()
    await route_all(database, [identified("не запускается")], published)
    assert published.events[0].routing.assignee == "Светлана Сидорова"
    async with database.sessions() as session, session.begin():
        await store.set_availability(session, "Светлана Сидорова", False)
    await route_all(database, [identified("не запускается", match=client())], published)
    waiting = published.events[1].routing
    assert (waiting.team, waiting.assignee) == ("service", None)
    assert "waits in the team queue" in waiting.trail[-1]


async def test_waiting_contacts_go_to_the_next_agent_who_frees_up(database: Database) -> None:
    async with database.sessions() as session, session.begin():
        for name in SERVICE_TEAM:
            await store.set_availability(session, name, False)
    published = Published()
    urgent, calm = identified("Срочно! Терминал не запускается"), identified("Терминал не запускается")
    await route_all(database, [calm], published)
    await route_all(database, [urgent], published)
    assert [e.routing.assignee for e in published.events] == [None, None]

    async with database.sessions() as session, session.begin():
        await store.set_availability(session, "Игорь Ким", True)
    first = await handlers.offer_waiting_work("Игорь Ким", sessions=database.sessions, rules=RULES,
                                              relay=published.relay(database), now=WEDNESDAY_NOON)
    # The more urgent contact (priority 2) goes first although it arrived second.
    assert first is not None and first.contact_id == urgent.contact.contact_id
    assert (first.assignee, first.team, first.channel) == ("Игорь Ким", "service", "email")
    assert published.assigned == [first]

    # Outside the team's hours nobody pulls from its queue.
    sunday = WEDNESDAY_NOON.replace(day=29)
    assert await handlers.offer_waiting_work("Игорь Ким", sessions=database.sessions, rules=RULES,
                                             relay=published.relay(database), now=sunday) is None
    # An unavailable agent pulls nothing; an agent outside the team pulls nothing.
    for name in ("Олег Петров", "Анна Орлова"):
        assert await handlers.offer_waiting_work(name, sessions=database.sessions, rules=RULES,
                                                 relay=published.relay(database), now=WEDNESDAY_NOON) is None
    second = await handlers.offer_waiting_work("Игорь Ким", sessions=database.sessions, rules=RULES,
                                               relay=published.relay(database), now=WEDNESDAY_NOON)
    assert second is not None and second.contact_id == calm.contact.contact_id
    assert await handlers.offer_waiting_work("Игорь Ким", sessions=database.sessions, rules=RULES,
                                             relay=published.relay(database), now=WEDNESDAY_NOON) is None
    async with database.sessions() as session:
        assert await store.open_loads(session) == {"Игорь Ким": 2}
        assert (await store.recorded_routing(session, calm.contact.contact_id)).trail[-1] == (
            "Игорь Ким freed up and took it from the service queue")


async def test_finishing_a_ticket_pulls_the_next_waiting_contact(database: Database) -> None:
    # The service team around the clock here, so the test does not depend on when it runs.
    text = default_rule_text().replace(
        '    hours: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "21:00"}\n', "", 1)
    rules = ActiveRules(text)
    assert rules.fallback_text != default_rule_text()
    published = Published()

    async def route(event) -> ContactRouted:
        return await handlers.on_contact_identified(event, sessions=database.sessions, rules=rules,
                                                    second_opinion=None, relay=published.relay(database))

    busy = [await route(identified("Терминал не запускается")) for _ in SERVICE_TEAM]
    async with database.sessions() as session, session.begin():
        for name in SERVICE_TEAM[1:]:
            await store.set_availability(session, name, False)
    olegs = next(r for r in busy if r.routing.assignee == SERVICE_TEAM[0])
    queued = await route(identified("Касса не запускается"))
    assert queued.routing.assignee == SERVICE_TEAM[0]  # still available: takes a second one
    async with database.sessions() as session, session.begin():
        await store.set_availability(session, SERVICE_TEAM[0], False)
    waiting = await route(identified("Принтер не печатает"))
    assert waiting.routing.assignee is None
    async with database.sessions() as session, session.begin():
        await store.set_availability(session, SERVICE_TEAM[0], True)  # back, but nobody offered yet

    created = ticket_created(olegs, "2026-000077")
    closed = TicketStatusChanged(correlation_id=olegs.correlation_id, channel="email", idempotency_key="close",
                                 number="2026-000077", old_status=TicketStatus.NEW,
                                 new_status=TicketStatus.CLOSED, changed_by="agent")
    await handlers.on_ticket_created(created, sessions=database.sessions)
    await handlers.on_ticket_status_changed(closed, sessions=database.sessions, rules=rules, relay=published.relay(database))
    assert [(a.contact_id, a.assignee) for a in published.assigned] == [
        (waiting.contact.contact_id, SERVICE_TEAM[0])]


async def test_a_stored_rule_book_reaches_every_instance_without_restart(database: Database) -> None:
    """Two router processes share the database: a book stored through one is used by the other's next
    decision (each decision reads the newest version number)."""
    first, second = ActiveRules(default_rule_text()), ActiveRules(default_rule_text())
    async with database.sessions() as session:
        assert (await first.current(session))[1] == (await second.current(session))[1] == 0
    edited = default_rule_text().replace("  - name: complaint\n", "  - name: grievance\n", 1)
    async with database.sessions() as session, session.begin():
        version = await store.add_rule_version(session, edited, "supervisor", "renamed")
    async with database.sessions() as session:
        book, seen = await second.current(session)
    assert seen == version and [r.name for r in book.rules][1] == "grievance"
    published = Published()
    await handlers.on_contact_identified(identified("Пишу жалобу"), sessions=database.sessions, rules=first,
                                         second_opinion=None, relay=published.relay(database))
    assert (published.events[0].routing.rule, published.events[0].routing.rules_version) == ("grievance", version)


async def test_a_contact_without_a_ticket_stops_weighing_after_the_grace(database: Database) -> None:
    """A follow-up that joined an existing ticket never gets its own ticket.created: it must not count
    for ever, while a contact whose ticket exists counts until the ticket is finished."""
    published = Published()
    await route_all(database, [identified("Терминал не запускается"), identified("Касса не открывается")], published)
    with_ticket, follow_up = published.events
    r = with_ticket.routing
    created = ticket_created(with_ticket, "2026-000123")
    await handlers.on_ticket_created(created, sessions=database.sessions)
    later = utcnow() + store.PENDING_GRACE + timedelta(minutes=1)
    async with database.sessions() as session:
        assert await store.open_loads(session) == {r.assignee: 1, follow_up.routing.assignee: 1}
        assert await store.open_loads(session, now=later) == {r.assignee: 1}


async def test_machine_written_contacts_are_routed_but_weigh_on_nobody(database: Database) -> None:
    published = Published()
    bounce = identified("Delivery Status Notification (Failure)")
    bounce = bounce.model_copy(update={"contact": bounce.contact.model_copy(update={"automated": AutomatedKind.BOUNCE})})
    await route_all(database, [bounce], published)
    routing = published.events[0].routing
    assert routing.assignee is None and routing.rule == "undeliverable-notice"
    assert routing.trail[-1] == "written by a machine (bounce): no agent is assigned"
    async with database.sessions() as session:
        assert await store.open_loads(session) == {}
