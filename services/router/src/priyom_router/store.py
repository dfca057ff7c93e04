"""The router's storage: rule book versions, agent states, assignments (the load), and migrations.

Every query takes the caller's :class:`AsyncSession`, so a contact's decision and its recorded assignment
are one transaction; a balanced pick takes its group's lock (:func:`lock_group`) first.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Uuid, bindparam, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ContactType, Routing, TicketCreated, TicketStatus, utcnow
from priyom_kit import db
from priyom_kit.driver_statements import any_of, fetch_mappings

from .assignment import Roster
from .erasure_redaction import ERASED
from .tables import agents, assignments, metadata, roster_locks, rule_versions, team_cursors, type_corrections

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_router"
#: Ticket states in which a ticket no longer weighs on its assignee; every other state does (the tickets
#: service grows states per type, and a state the router does not know yet counts as work).
FINISHED_STATUSES = frozenset({"resolved", "closed", "cancelled", "rejected"})


#: How long a routed contact weighs on its agent before its ticket is announced. Its ticket.created normally
#: follows within a second; a contact that never gets one (it joined an existing ticket as a follow-up, or
#: the tickets service is down for longer) stops counting after this, so loads cannot drift upwards.
PENDING_GRACE = timedelta(minutes=15)


def is_open(status: TicketStatus) -> bool:
    return status.value not in FINISHED_STATUSES

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "metadata", "migrate_database"]


def migrate_database(url: db.DatabaseUrl) -> None:
    """Upgrade ``url`` to the newest schema (``python -m priyom_router migrate``, and tests)."""
    db.upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _per_dialect(build: Any) -> dict[str, Any]:
    """A statement built once per dialect, for the queries every contact runs: one built per call is
    constructed and cache-keyed again each time, which costs more CPU than executing it."""
    return {"postgresql": build(pg_insert), "sqlite": build(sqlite_insert)}


def _for(session: AsyncSession, statements: dict[str, Any]) -> Any:
    return statements["postgresql" if session.bind and session.bind.dialect.name == "postgresql" else "sqlite"]


# -- rule book versions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleVersion:
    version: int
    text: str
    created_by: str
    comment: str | None
    created_at: datetime


_LATEST_VERSION = select(func.max(rule_versions.c.version))


async def latest_version_number(session: AsyncSession) -> int | None:
    return (await session.execute(_LATEST_VERSION)).scalar_one_or_none()


async def rule_version(session: AsyncSession, version: int | None = None) -> RuleVersion | None:
    """One version, or the newest (the active one) when ``version`` is None."""
    query = select(rule_versions)
    query = (query.where(rule_versions.c.version == version) if version is not None
             else query.order_by(rule_versions.c.version.desc()).limit(1))
    row = (await session.execute(query)).first()
    return RuleVersion(row.version, row.text, row.created_by, row.comment, row.created_at) if row else None


async def rule_history(session: AsyncSession) -> list[RuleVersion]:
    rows = await session.execute(select(rule_versions).order_by(rule_versions.c.version.desc()))
    return [RuleVersion(r.version, "", r.created_by, r.comment, r.created_at) for r in rows]


async def add_rule_version(session: AsyncSession, text: str, created_by: str, comment: str | None) -> int:
    result = await session.execute(
        rule_versions.insert()
        .values(text=text, created_by=created_by, comment=comment, created_at=utcnow())
        .returning(rule_versions.c.version)
    )
    return int(result.scalar_one())


# -- agents and load ----------------------------------------------------------------------------------------


async def lock_group(session: AsyncSession, key: str) -> None:
    """Take a balancing group's lock for the rest of the transaction: picks in the group happen one at a
    time. One statement, which creates the group's row the first time: a row lock on PostgreSQL; on SQLite
    the first write of the transaction, so it waits for the database's write lock."""
    await session.execute(_for(session, _LOCK_GROUP), {"name": key[:100], "turns": 1})


_LOCK_GROUP = _per_dialect(lambda insert: insert(roster_locks).on_conflict_do_update(
    index_elements=[roster_locks.c.name], set_={"turns": roster_locks.c.turns + 1}))


async def roster(session: AsyncSession) -> Roster:
    """Everyone's reported availability and open-ticket count, and the teams' round-robin cursors."""
    return Roster(available=await agent_states(session), loads=await open_loads(session),
                  last_assigned=await cursors(session))


async def group_roster(session: AsyncSession, members: Sequence[str], available: Mapping[str, bool], *,
                       round_robin: bool) -> Roster:
    """What a balanced pick in a group needs, read under the group's lock: its members' loads, and the
    round-robin cursors when the book balances by turns."""
    return Roster(available=available, loads=await open_loads(session, members=members),
                  last_assigned=await cursors(session) if round_robin else {})


async def cursors(session: AsyncSession) -> dict[str, str]:
    """Each team's last assignee, where round robin continues."""
    return {r.team: r.last_assignee for r in await session.execute(select(team_cursors))}


async def set_availability(session: AsyncSession, name: str, available: bool) -> None:
    insert = _insert(session)
    statement = insert(agents).values(name=name, available=available, updated_at=utcnow())
    await session.execute(statement.on_conflict_do_update(
        index_elements=[agents.c.name], set_={"available": available, "updated_at": utcnow()}))


# -- assignments --------------------------------------------------------------------------------------------


async def recorded_routing(session: AsyncSession, contact_id: uuid.UUID) -> Routing | None:
    """The decision already taken for this contact (a redelivery must not decide, or count, twice)."""
    row = (await session.execute(_RECORDED_ROUTING, {"contact_id": contact_id})).scalar_one_or_none()
    return Routing.model_validate(row) if row is not None else None


_RECORDED_ROUTING = select(assignments.c.routing).where(assignments.c.contact_id == bindparam("contact_id"))


async def recorded_routings(session: AsyncSession, contact_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Routing]:
    """:func:`recorded_routing` for a batch's contacts, in one statement: the decisions already taken."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    rows = await fetch_mappings(session, _RECORDED_ROUTINGS[dialect == "postgresql"],
                                {"contact_ids": list(dict.fromkeys(contact_ids))})
    return {row["contact_id"]: Routing.model_validate(row["routing"]) for row in rows}


# One statement for any number of contacts on PostgreSQL (each length of an IN list is prepared again).
_RECORDED_ROUTINGS = {
    postgresql: select(assignments.c.contact_id, assignments.c.routing).where(
        any_of(assignments.c.contact_id, "contact_ids", "postgresql" if postgresql else "sqlite", Uuid()))
    for postgresql in (True, False)}


async def record_assignment(session: AsyncSession, contact_id: uuid.UUID, routing: Routing, *,
                            waiting: bool, routed_at: datetime, channel: str, opens_ticket: bool = True,
                            round_robin: bool = False, until_opening: bool = False) -> bool:
    """Record the decision; a contact that will open no ticket (machine-written) never counts as load.
    False when a concurrent delivery of the same contact recorded it first (the caller then reads theirs)."""
    # On the driver (priyom_kit.driver_statements): one statement a contact, whose processing by SQLAlchemy cost
    # twice its own CPU.
    recorded = await fetch_mappings(session, _for(session, _RECORD_ASSIGNMENT), dict(
        contact_id=contact_id, team=routing.team, assignee=routing.assignee, waiting=waiting, open=opens_ticket,
        priority=routing.priority or 3, routing=routing.model_dump(mode="json"), routed_at=routed_at,
        channel=channel, until_opening=until_opening,
    ))
    if not recorded:
        return False
    if routing.assignee and round_robin:
        await _advance_cursor(session, routing.team, routing.assignee)
    return True


_RECORD_ASSIGNMENT = _per_dialect(
    lambda insert: insert(assignments).values({column.name: bindparam(column.name, type_=column.type) for column in (
        assignments.c.contact_id, assignments.c.team, assignments.c.assignee, assignments.c.waiting,
        assignments.c.open, assignments.c.priority, assignments.c.routing, assignments.c.routed_at,
        assignments.c.channel, assignments.c.until_opening)})
    .on_conflict_do_nothing(index_elements=[assignments.c.contact_id]).returning(assignments.c.contact_id))


async def _advance_cursor(session: AsyncSession, team: str, assignee: str) -> None:
    """Remember the team's last assignee, where round robin continues."""
    insert = _insert(session)
    await session.execute(insert(team_cursors).values(team=team, last_assignee=assignee)
                          .on_conflict_do_update(index_elements=[team_cursors.c.team],
                                                 set_={"last_assignee": assignee}))


async def tickets_created(session: AsyncSession, created: Sequence[tuple[TicketCreated, Routing]]) -> None:
    """Tickets exist for these contacts: bind each one's number, take its (possibly changed) assignee and state,
    with the contact's recorded routing. A contact routed by an older router without a row here gets one.

    One statement for the batch: the driver sends its rows in one round trip (one statement a ticket was a
    round trip each), in order, so a ticket announced twice in a batch ends as it would one at a time.
    """
    if created:
        await session.execute(_for(session, _TICKET_CREATED), [dict(
            contact_id=event.contact_id, team=event.team, assignee=event.assignee, waiting=event.assignee is None,
            open=is_open(event.status), priority=routing.priority or 3, ticket_number=str(event.number),
            status_at=event.occurred_at, routing=routing.model_dump(mode="json"), routed_at=event.occurred_at,
            channel=event.channel) for event, routing in created])


def _ticket_created(insert: Any) -> Any:
    statement = insert(assignments)
    # An existing row takes the values this row would have been inserted with.
    return statement.on_conflict_do_update(
        index_elements=[assignments.c.contact_id],
        set_={name: statement.excluded[name]
              for name in ("ticket_number", "team", "assignee", "waiting", "open", "status_at")},
    )


_TICKET_CREATED = _per_dialect(_ticket_created)


async def ticket_status(session: AsyncSession, number: str, status: TicketStatus,
                        at: datetime) -> tuple[bool, str | None]:
    """Apply a status change unless a newer one was applied already. Returns whether the ticket is known,
    and its assignee."""
    known = (await session.execute(select(assignments.c.contact_id, assignments.c.assignee)
                                   .where(assignments.c.ticket_number == number))).first()
    if known is None:
        return False, None
    await session.execute(
        update(assignments)
        .where(assignments.c.ticket_number == number,
               (assignments.c.status_at.is_(None)) | (assignments.c.status_at <= at))
        .values(open=is_open(status), status_at=at)
    )
    return True, known.assignee


async def ticket_assigned(session: AsyncSession, number: str, team: str, assignee: str | None) -> bool:
    """An agent moved the ticket in the console: its weight goes to ``assignee`` (None: it waits in ``team``'s
    queue). False when the ticket is not known here yet."""
    result = await session.execute(update(assignments).where(assignments.c.ticket_number == number)
                                   .values(team=team, assignee=assignee, waiting=assignee is None))
    return bool(result.rowcount)


@dataclass(frozen=True)
class Waiting:
    contact_id: uuid.UUID
    channel: str | None
    ticket_number: str | None
    team: str
    routing: Routing


async def next_waiting(session: AsyncSession, teams: list[str]) -> Waiting | None:
    """The contact that has waited in one of ``teams``' queues the longest, most urgent first."""
    found = await queue(session, teams, limit=1)
    return found[0] if found else None


async def queue(session: AsyncSession, teams: list[str], limit: int, *,
                until_opening: bool = False) -> list[Waiting]:
    """The contacts waiting in ``teams``' queues (only those waiting for the hours to start, with
    ``until_opening``), most urgent first, then longest waiting."""
    if not teams:
        return []
    which = assignments.c.until_opening.is_(True) if until_opening else true()
    rows = await session.execute(
        select(assignments.c.contact_id, assignments.c.channel, assignments.c.ticket_number, assignments.c.team,
               assignments.c.routing)
        .where(assignments.c.waiting.is_(True), assignments.c.open.is_(True), assignments.c.team.in_(teams),
               which)
        .order_by(assignments.c.priority, assignments.c.routed_at, assignments.c.contact_id).limit(limit)
    )
    return [Waiting(r.contact_id, r.channel, r.ticket_number, r.team, Routing.model_validate(r.routing))
            for r in rows]


async def take_waiting(session: AsyncSession, waiting: Waiting, assignee: str, why: str) -> None:
    routing = waiting.routing.model_copy(update={"assignee": assignee, "trail": [*waiting.routing.trail, why]})
    await session.execute(update(assignments).where(assignments.c.contact_id == waiting.contact_id)
                          .values(assignee=assignee, waiting=False, until_opening=False,
                                  routing=routing.model_dump(mode="json")))
    await _advance_cursor(session, waiting.team, assignee)


async def open_loads(session: AsyncSession, now: datetime | None = None,
                     members: Sequence[str] | None = None) -> dict[str, int]:
    """Open contacts per agent (of ``members`` only, when given): tickets not yet finished, and contacts
    routed within ``PENDING_GRACE`` whose ticket has not been announced yet."""
    pending_since = (now or utcnow()) - PENDING_GRACE
    if members is None:
        rows = await session.execute(_OPEN_LOADS_ALL, {"since": pending_since})
    else:
        rows = await session.execute(_OPEN_LOADS_OF, {"since": pending_since, "members": list(members)})
    return {name: int(count) for name, count in rows}


def _open_loads(who: Any) -> Any:
    return (select(assignments.c.assignee, func.count())
            .where(assignments.c.open.is_(True), who,
                   assignments.c.ticket_number.is_not(None) | (assignments.c.routed_at >= bindparam("since")))
            .group_by(assignments.c.assignee))


_OPEN_LOADS_ALL = _open_loads(assignments.c.assignee.is_not(None))
_OPEN_LOADS_OF = _open_loads(assignments.c.assignee.in_(bindparam("members", expanding=True)))
_AGENT_STATES = select(agents)


async def agent_states(session: AsyncSession) -> dict[str, bool]:
    return {r.name: r.available for r in await session.execute(_AGENT_STATES)}


# -- training examples --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    ticket_number: str
    type: ContactType
    subject: str | None
    text: str


async def record_correction(session: AsyncSession, contact_id: uuid.UUID, ticket_number: str, type_: ContactType,
                            subject: str | None, text: str, at: datetime) -> None:
    """Keep an agent's corrected type with its text; a later correction of the same contact replaces it,
    an older one arriving late does not."""
    insert = _insert(session)
    values = {"ticket_number": ticket_number, "type": type_.value, "subject": subject, "text": text,
              "corrected_at": at}
    await session.execute(insert(type_corrections).values(contact_id=contact_id, **values).on_conflict_do_update(
        index_elements=[type_corrections.c.contact_id], set_=values,
        where=type_corrections.c.corrected_at <= at))


async def corrections(session: AsyncSession) -> list[Correction]:
    # An erased example (its text redacted on an erasure request) teaches nothing.
    rows = await session.execute(select(type_corrections).where(type_corrections.c.text != ERASED)
                                 .order_by(type_corrections.c.corrected_at))
    return [Correction(r.ticket_number, ContactType(r.type), r.subject, r.text) for r in rows]
