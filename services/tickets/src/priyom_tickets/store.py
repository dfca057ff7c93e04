"""The tickets tables and every query on them (SQLAlchemy Core; SQLite and PostgreSQL alike).

A ticket's ``number`` is what a customer quotes and an agent says on the phone: ``2026-000123``, the year of
registration and a gapless count within it. The count is a row per year in ``ticket_number_years``, bumped by
an upsert inside the registering transaction, so a rolled-back registration returns its number and two
concurrent ones queue on the row lock. ``seq`` is the internal key the other tables point at (an identity
column; it may skip values, which nobody sees) and the newest-first order of every list.

Messages hang off the ticket rather than the ticket holding "the" message, so the later lifecycle (replies,
follow-ups on the same thread) adds rows, not columns.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ContactRouted, ContactType, TicketStatus, utcnow
from priyom_kit.db import UtcDateTime, inbox_table, make_metadata, upgrade_database

from .numbering import NUMBER_RE, format_number

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_tickets"

#: Most tickets one list request returns; the API refuses more rather than serving an unbounded page.
MAX_PAGE = 200


metadata = make_metadata()

tickets = Table(
    "tickets",
    metadata,
    Column("seq", Integer, Identity(), primary_key=True),
    Column("number", String(16), nullable=False),
    Column("id", Uuid, nullable=False, unique=True),
    # The contact that opened the ticket; later contacts on the same ticket live in ticket_messages.
    Column("contact_id", Uuid, nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("idempotency_key", String(512), nullable=False),
    Column("client_id", Uuid, nullable=False),
    Column("person_id", Uuid),
    Column("first_contact", Boolean, nullable=False),
    # Enumerations are stored as their values, not as database enums: a new status or type is a code change.
    Column("type", String(32), nullable=False),
    Column("category", String(500), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("team", String(500), nullable=False),
    Column("assignee", String(500)),
    Column("subject", Text),
    Column("routing_reason", String(500), nullable=False),
    Column("first_response_due_at", UtcDateTime, nullable=False),
    Column("resolution_due_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The lifecycle: the latest decision (a dictionary code and free text), the result, and the clocks.
    Column("decision", String(64)),
    Column("decision_text", Text),
    Column("result", Text),
    Column("status_changed_at", UtcDateTime),
    Column("first_responded_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    # SLA: the tier the deadlines were computed for, when the scheduler found the ticket late, and the
    # escalation on record (team head, second line, an outside vendor) with whom it went to.
    Column("sla_tier", String(500)),
    Column("overdue_at", UtcDateTime),
    Column("escalation", String(32)),
    Column("escalated_to", String(500)),
    Column("escalated_at", UtcDateTime),
    # The client card's name as identity sent it (the queue shows it without asking identity per row).
    Column("client_name", String(500)),
    # What only some types need (type_fields.py): a complaint's claimed amount, a contract number, a budget.
    Column("type_fields", JSON),
    # A reply of ours bounced: the ticket is flagged until someone reaches the customer another way.
    Column("delivery_failed_at", UtcDateTime),
    UniqueConstraint("channel", "idempotency_key"),
    Index(None, "number", unique=True),
    Index(None, "status"),
    Index(None, "assignee"),
    Index(None, "team"),
    Index(None, "client_id"),
    Index(None, "resolution_due_at"),
    sqlite_autoincrement=True,
)

ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("ticket_seq", Integer, ForeignKey("tickets.seq", ondelete="CASCADE"), nullable=False),
    # Unique for inbound messages (one contact is one message); outbound replies have none.
    Column("contact_id", Uuid, unique=True),
    Column("direction", String(16), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("author_name", String(500)),
    # The sender as the channel gave it (email, phone, messenger id): where a reply will be delivered.
    Column("sender", JSON),
    # Reply headers and chat ids, so follow-ups can be threaded onto this ticket later.
    Column("thread", JSON),
    Column("subject", Text),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The adapter's conversation key (chat id, e-mail thread root): a follow-up carrying it joins this ticket.
    Column("thread_key", String(512)),
    # The channel's id of this message (inbound: its key; outbound: what the adapter reported it sent as),
    # which an e-mail reply names in In-Reply-To / References.
    Column("external_message_id", String(998)),
    # Outbound only: the reply's id on the bus, what it is (reply or notice), and what the adapter reported.
    Column("reply_id", Uuid),
    Column("kind", String(16)),
    Column("delivery_status", String(16)),
    Column("delivery_detail", String(2000)),
    # Inbound only: why no person wrote it (auto_reply, bounce, report, list); it never moves the ticket.
    Column("automated", String(16)),
    Index(None, "ticket_seq", "created_at"),
    Index(None, "thread_key"),
    Index(None, "external_message_id"),
    Index(None, "reply_id", unique=True),
)

#: The per-year counters behind the human numbers.
ticket_number_years = Table(
    "ticket_number_years",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last", Integer, nullable=False),
)

#: Every change to a ticket, in order: who, when, which action, from and to which status, and the details.
ticket_history = Table(
    "ticket_history",
    metadata,
    # A counter, not a UUID: lines written in one transaction share a timestamp and must keep their order.
    Column("id", Integer, Identity(), primary_key=True),
    Column("ticket_seq", Integer, ForeignKey("tickets.seq", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(500), nullable=False),
    Column("action", String(64), nullable=False),
    Column("from_status", String(32)),
    Column("to_status", String(32)),
    Column("details", JSON),
    Index(None, "ticket_seq", "at"),
    sqlite_autoincrement=True,
)

ticket_attachments = Table(
    "ticket_attachments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("message_id", Uuid, ForeignKey("ticket_messages.id", ondelete="CASCADE"), nullable=False),
    Column("blob_key", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Index(None, "message_id"),
)

#: Things to do about a ticket by a time: call back, meet, prepare a document, carry out a plan's task.
ticket_activities = Table(
    "ticket_activities",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("ticket_seq", Integer, ForeignKey("tickets.seq", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("title", String(500), nullable=False),
    Column("owner", String(500), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime),
    Column("created_by", String(500), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "ticket_seq"),
    Index(None, "owner", "due_at"),
)

#: The customer's 1–5 rating of a closed ticket (satisfaction.py).
ticket_ratings = Table(
    "ticket_ratings",
    metadata,
    Column("ticket_seq", Integer, ForeignKey("tickets.seq", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("rating", SmallInteger, nullable=False),
    Column("comment", Text),
    Column("channel", String(32), nullable=False),
    Column("rated_at", UtcDateTime, nullable=False),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
)

#: Staff accounts (staff.py); only the token's digest is kept.
staff = Table(
    "staff",
    metadata,
    Column("name", String(500), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("teams", JSON, nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    # The agent's phone extension: its ringing pops the caller's card up on their console (popups.py).
    Column("extension", String(32)),
    Index(None, "extension", unique=True),
)

#: Events to publish, written in the transaction that caused them and sent after its commit (see outbox.py).
ticket_outbox = Table(
    "ticket_outbox",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime),
    Index(None, "published_at"),
    sqlite_autoincrement=True,
)

inbox = inbox_table(metadata, "tickets_inbox")


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (``python -m priyom_tickets migrate``)."""
    upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)


# -- writing ----------------------------------------------------------------------------------------------


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


async def lock_arrival(session: AsyncSession, key: str) -> None:
    """Make concurrent deliveries of one arrival wait for each other until the first one commits.

    Correctness does not depend on it (the UNIQUE constraints do that, and the year counter rolls back with a
    losing insert), but waiting here lets the second delivery find the first one's record instead of doing
    the work twice. SQLite needs nothing: it runs one writer at a time.
    """
    if session.bind.dialect.name != "postgresql":
        return
    lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    await session.execute(_ADVISORY_LOCK, {"lock_id": lock_id})


#: Built once: constructing and cache-keying a statement per message costs more CPU than running it.
_ADVISORY_LOCK = select(func.pg_advisory_xact_lock(bindparam("lock_id", type_=BigInteger)))
#: Inserts executed with one row of parameters (the same columns as ``.values(...)`` would name).
_INSERT_TICKET = tickets.insert().returning(*tickets.c)
_INSERT_MESSAGE = ticket_messages.insert()


async def next_number(session: AsyncSession, year: int) -> str:
    """Draw the next number of ``year`` inside the caller's transaction (gapless: it rolls back with it)."""
    statement = _NEXT_NUMBER[session.bind.dialect.name == "postgresql"]
    return format_number(year, (await session.execute(statement, {"year": year, "last": 1})).scalar_one())


def _next_number(insert: Any) -> Any:
    return (insert(ticket_number_years)
            .on_conflict_do_update(index_elements=[ticket_number_years.c.year],
                                   set_={"last": ticket_number_years.c.last + 1})
            .returning(ticket_number_years.c.last))


#: Per dialect (keyed by "is PostgreSQL"), built once like the other statements every contact runs.
_NEXT_NUMBER = {True: _next_number(pg_insert), False: _next_number(sqlite_insert)}


async def insert_ticket(session: AsyncSession, event: ContactRouted, now: datetime, year: int,
                        due: tuple[datetime, datetime] | None = None) -> RowMapping:
    """Insert the ticket, its first message and the attachment references; returns the new ticket's row.

    ``due`` (first response, resolution) replaces the router's deadlines when tickets' own SLA policy
    covers the client's tier and the ticket type.

    Raises :class:`sqlalchemy.exc.IntegrityError` when the contact (or its channel key) already has a
    ticket; the caller rolls back and reads that ticket instead.
    """
    contact, client, routing = event.contact, event.client, event.routing
    number = await next_number(session, year)
    first_response_due_at, resolution_due_at = due or (routing.first_response_due_at, routing.resolution_due_at)
    result = await session.execute(
        _INSERT_TICKET,
        dict(
            id=uuid.uuid4(),
            number=number,
            contact_id=contact.contact_id,
            channel=event.channel,
            idempotency_key=event.idempotency_key,
            client_id=client.client_id,
            person_id=client.person_id,
            first_contact=client.first_contact,
            type=routing.type.value,
            category=routing.category,
            urgency=routing.urgency.value,
            status=TicketStatus.NEW.value,
            team=routing.team,
            assignee=routing.assignee,
            subject=contact.subject,
            routing_reason=routing.reason,
            first_response_due_at=first_response_due_at,
            resolution_due_at=resolution_due_at,
            created_at=now,
            updated_at=now,
            status_changed_at=now,
            sla_tier=client.sla_tier,
            client_name=client.display_name or client.organisation,
        ),
    )
    ticket = result.mappings().one()
    await insert_inbound_message(session, ticket["seq"], event)
    return ticket


async def insert_inbound_message(session: AsyncSession, seq: int, event: ContactRouted) -> uuid.UUID:
    """A customer's contact as a message on ticket ``seq``, with its attachment references."""
    contact, client = event.contact, event.client
    message_id = uuid.uuid4()
    await session.execute(
        _INSERT_MESSAGE,
        dict(
            id=message_id,
            ticket_seq=seq,
            contact_id=contact.contact_id,
            direction="inbound",
            channel=event.channel,
            author_name=contact.sender.name or client.display_name,
            sender=contact.sender.model_dump(mode="json", exclude_none=True),
            thread=contact.thread.model_dump(mode="json", exclude_defaults=True) or None,
            subject=contact.subject,
            body=contact.body,
            created_at=contact.received_at,
            thread_key=contact.thread.external_thread_id,
            # The channel's own id (an e-mail's Message-ID) is what a later reply names in In-Reply-To;
            # the idempotency key stands in where the channel has none.
            external_message_id=(contact.thread.message_id or event.idempotency_key)[:998],
            automated=contact.automated.value if contact.automated else None,
        ),
    )
    if contact.attachments:
        await session.execute(
            ticket_attachments.insert(),
            [
                {"id": uuid.uuid4(), "message_id": message_id, "blob_key": a.blob_key, "filename": a.filename,
                 "content_type": a.content_type, "size": a.size}
                for a in contact.attachments
            ],
        )
    return message_id


async def add_history(session: AsyncSession, seq: int, *, at: datetime, actor: str, action: str,
                      from_status: str | None = None, to_status: str | None = None,
                      details: dict[str, Any] | None = None) -> int:
    """One line of the audit history (the caller's transaction decides whether it stays); returns its id."""
    result = await session.execute(ticket_history.insert().values(
        ticket_seq=seq, at=at, actor=actor, action=action, from_status=from_status, to_status=to_status,
        details=details or None).returning(ticket_history.c.id))
    return result.scalar_one()


async def update_ticket(session: AsyncSession, seq: int, **values: Any) -> None:
    await session.execute(tickets.update().where(tickets.c.seq == seq).values(**values))


# -- reading ----------------------------------------------------------------------------------------------


async def ticket_of_arrival(
    session: AsyncSession, contact_id: uuid.UUID, channel: str, idempotency_key: str
) -> RowMapping | None:
    """The ticket an arrival already produced: by its contact, or by the channel's own key for it."""
    result = await session.execute(
        select(tickets).where(
            (tickets.c.contact_id == contact_id)
            | ((tickets.c.channel == channel) & (tickets.c.idempotency_key == idempotency_key))
        ).limit(1)
    )
    return result.mappings().first()


@dataclass(frozen=True)
class TicketFilter:
    """What an agent's list may be narrowed by; ``None`` means "any"."""

    status: TicketStatus | None = None
    assignee: str | None = None
    team: str | None = None
    client_id: uuid.UUID | None = None
    channel: str | None = None
    first_contact: bool | None = None
    type: ContactType | None = None
    #: Past the resolution deadline and not yet resolved, closed or cancelled, as of ``now``.
    overdue: bool | None = None
    now: datetime | None = None
    #: Text search: an exact number, or words in the subject or any message.
    q: str | None = None
    #: What the viewer may see: these teams' tickets and those assigned to ``viewer``; None is everything.
    teams: frozenset[str] | None = None
    viewer: str | None = None

    def clauses(self) -> list[Any]:
        wanted = {
            tickets.c.status: self.status.value if self.status else None,
            tickets.c.assignee: self.assignee,
            tickets.c.team: self.team,
            tickets.c.client_id: self.client_id,
            tickets.c.channel: self.channel,
            tickets.c.first_contact: self.first_contact,
            tickets.c.type: self.type.value if self.type else None,
        }
        clauses = [column == value for column, value in wanted.items() if value is not None]
        if self.overdue is not None:
            late = overdue(self.now or utcnow())
            clauses.append(late if self.overdue else ~late)
        if self.q:
            clauses.append(_matches_text(self.q))
        if self.teams is not None:
            clauses.append(tickets.c.team.in_(sorted(self.teams)) | (tickets.c.assignee == self.viewer))
        return clauses


#: Statuses whose resolution clock has stopped.
DONE = ("resolved", "closed", "cancelled", "rejected", "awaiting_confirm")


def overdue(now: datetime) -> Any:
    """Late as of ``now``: still being worked and past the resolution deadline, or still unanswered and past
    the first-response deadline."""
    working = tickets.c.status.not_in(DONE)
    unanswered = tickets.c.first_responded_at.is_(None) & (tickets.c.first_response_due_at < now)
    return working & ((tickets.c.resolution_due_at < now) | unanswered)


def _matches_text(q: str) -> Any:
    q = q.strip()
    if NUMBER_RE.match(q):
        return tickets.c.number == q
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    in_messages = select(ticket_messages.c.ticket_seq).where(
        ticket_messages.c.body.ilike(pattern, escape="\\"))
    return tickets.c.subject.ilike(pattern, escape="\\") | tickets.c.seq.in_(in_messages)


async def list_tickets(
    session: AsyncSession, where: TicketFilter, *, limit: int, offset: int
) -> tuple[list[RowMapping], int]:
    """One page of tickets, newest first, and how many match in all."""
    clauses = where.clauses()
    total = await session.scalar(select(func.count()).select_from(tickets).where(*clauses))
    rows = await session.execute(
        select(tickets).where(*clauses).order_by(tickets.c.seq.desc()).limit(limit).offset(offset)
    )
    return list(rows.mappings()), int(total or 0)


async def get_ticket(session: AsyncSession, number: str, *, for_update: bool = False) -> RowMapping | None:
    """A ticket by its number; ``for_update`` locks the row (PostgreSQL) so two changes queue."""
    query = select(tickets).where(tickets.c.number == number)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().first()


async def messages_of(session: AsyncSession, seq: int) -> list[RowMapping]:
    """A ticket's messages in the order they happened."""
    result = await session.execute(
        select(ticket_messages)
        .where(ticket_messages.c.ticket_seq == seq)
        .order_by(ticket_messages.c.created_at, ticket_messages.c.id)
    )
    return list(result.mappings())


async def history_of(session: AsyncSession, seq: int) -> list[RowMapping]:
    """A ticket's audit history, oldest first."""
    result = await session.execute(
        select(ticket_history).where(ticket_history.c.ticket_seq == seq)
        .order_by(ticket_history.c.id))
    return list(result.mappings())


async def attachments_of(session: AsyncSession, message_ids: list[uuid.UUID]) -> list[RowMapping]:
    if not message_ids:
        return []
    result = await session.execute(
        select(ticket_attachments)
        .where(ticket_attachments.c.message_id.in_(message_ids))
        .order_by(ticket_attachments.c.filename, ticket_attachments.c.id)
    )
    return list(result.mappings())


async def ticket_of_contact(session: AsyncSession, contact_id: uuid.UUID) -> RowMapping | None:
    """The ticket a contact landed on, through its message, so a follow-up contact finds its ticket too."""
    result = await session.execute(
        select(tickets.c.number, tickets.c.status, tickets.c.created_at)
        .join(ticket_messages, ticket_messages.c.ticket_seq == tickets.c.seq)
        .where(ticket_messages.c.contact_id == contact_id)
    )
    return result.mappings().first()


async def ticket_of_assigned_contact(session: AsyncSession, contact_id: uuid.UUID,
                                     number: str | None) -> RowMapping | None:
    """The ticket a contact landed on (locked for the change): by the number when the router knows it and
    the contact is on that ticket, otherwise through the contact's message."""
    query = (select(tickets).join(ticket_messages, ticket_messages.c.ticket_seq == tickets.c.seq)
             .where(ticket_messages.c.contact_id == contact_id))
    if number:
        query = query.where(tickets.c.number == number)
    return (await session.execute(query.limit(1).with_for_update(of=tickets))).mappings().first()


async def attachment(session: AsyncSession, number: str, attachment_id: uuid.UUID) -> RowMapping | None:
    """One attachment of one ticket (both must match, so an id cannot be read through another ticket)."""
    result = await session.execute(
        select(ticket_attachments)
        .join(ticket_messages, ticket_messages.c.id == ticket_attachments.c.message_id)
        .join(tickets, tickets.c.seq == ticket_messages.c.ticket_seq)
        .where(ticket_attachments.c.id == attachment_id, tickets.c.number == number)
    )
    return result.mappings().first()


async def latest_inbound(session: AsyncSession, seq: int, channel: str) -> RowMapping | None:
    """The customer's latest message on ``channel``: where replies and notices on that channel go."""
    result = await session.execute(
        select(ticket_messages).where(ticket_messages.c.ticket_seq == seq, ticket_messages.c.channel == channel,
                                      ticket_messages.c.direction == "inbound")
        .order_by(ticket_messages.c.created_at.desc(), ticket_messages.c.id).limit(1))
    return result.mappings().first()
