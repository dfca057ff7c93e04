"""The tickets tables and every query on them (SQLAlchemy Core; SQLite and PostgreSQL alike).

A ticket's ``number`` is what a customer quotes and an agent says on the phone, so the database hands it out:
an identity column on PostgreSQL, ``INTEGER PRIMARY KEY AUTOINCREMENT`` on SQLite (AUTOINCREMENT so a number
is never reused even if the newest ticket were deleted). PostgreSQL may skip a number when two deliveries of
one contact race (the loser's insert has already drawn from the sequence); numbers stay unique and rising.

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
    Boolean,
    Column,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    select,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ContactRouted, TicketStatus
from priyom_kit.db import UtcDateTime, inbox_table, make_metadata, upgrade_database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_tickets"

#: Most tickets one list request returns; the API refuses more rather than serving an unbounded page.
MAX_PAGE = 200


metadata = make_metadata()

tickets = Table(
    "tickets",
    metadata,
    Column("number", Integer, Identity(), primary_key=True),
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
    UniqueConstraint("channel", "idempotency_key"),
    Index(None, "status"),
    Index(None, "assignee"),
    Index(None, "team"),
    Index(None, "client_id"),
    sqlite_autoincrement=True,
)

ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("ticket_number", Integer, ForeignKey("tickets.number", ondelete="CASCADE"), nullable=False),
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
    Index(None, "ticket_number", "created_at"),
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

inbox = inbox_table(metadata, "tickets_inbox")


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (``python -m priyom_tickets migrate``)."""
    upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)


# -- writing ----------------------------------------------------------------------------------------------


async def lock_arrival(session: AsyncSession, key: str) -> None:
    """Make concurrent deliveries of one arrival wait for each other until the first one commits.

    Correctness does not depend on it (the UNIQUE constraints do that), but on PostgreSQL a losing insert has
    already drawn a number from the sequence, which would leave a gap customers notice. A transaction-scoped
    advisory lock on the arrival's key lets the second delivery find the first one's record instead.
    SQLite needs nothing: it runs one writer at a time and a rolled-back insert returns its number.
    """
    if session.bind.dialect.name != "postgresql":
        return
    lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(lock_id)))


async def insert_ticket(session: AsyncSession, event: ContactRouted, now: datetime) -> int:
    """Insert the ticket, its first message and the attachment references; returns the new number.

    Raises :class:`sqlalchemy.exc.IntegrityError` when the contact (or its channel key) already has a
    ticket; the caller rolls back and reads that ticket instead.
    """
    contact, client, routing = event.contact, event.client, event.routing
    result = await session.execute(
        tickets.insert()
        .values(
            id=uuid.uuid4(),
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
            first_response_due_at=routing.first_response_due_at,
            resolution_due_at=routing.resolution_due_at,
            created_at=now,
            updated_at=now,
        )
        .returning(tickets.c.number)
    )
    number = result.scalar_one()
    message_id = uuid.uuid4()
    await session.execute(
        ticket_messages.insert().values(
            id=message_id,
            ticket_number=number,
            contact_id=contact.contact_id,
            direction="inbound",
            channel=event.channel,
            author_name=contact.sender.name or client.display_name,
            sender=contact.sender.model_dump(mode="json", exclude_none=True),
            thread=contact.thread.model_dump(mode="json", exclude_defaults=True) or None,
            subject=contact.subject,
            body=contact.body,
            created_at=contact.received_at,
        )
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
    return number


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

    def clauses(self) -> list[Any]:
        wanted = {
            tickets.c.status: self.status.value if self.status else None,
            tickets.c.assignee: self.assignee,
            tickets.c.team: self.team,
            tickets.c.client_id: self.client_id,
            tickets.c.channel: self.channel,
            tickets.c.first_contact: self.first_contact,
        }
        return [column == value for column, value in wanted.items() if value is not None]


async def list_tickets(
    session: AsyncSession, where: TicketFilter, *, limit: int, offset: int
) -> tuple[list[RowMapping], int]:
    """One page of tickets, newest first (numbers only grow), and how many match in all."""
    clauses = where.clauses()
    total = await session.scalar(select(func.count()).select_from(tickets).where(*clauses))
    rows = await session.execute(
        select(tickets).where(*clauses).order_by(tickets.c.number.desc()).limit(limit).offset(offset)
    )
    return list(rows.mappings()), int(total or 0)


async def get_ticket(session: AsyncSession, number: int) -> RowMapping | None:
    result = await session.execute(select(tickets).where(tickets.c.number == number))
    return result.mappings().first()


async def messages_of(session: AsyncSession, number: int) -> list[RowMapping]:
    """A ticket's messages in the order they happened."""
    result = await session.execute(
        select(ticket_messages)
        .where(ticket_messages.c.ticket_number == number)
        .order_by(ticket_messages.c.created_at, ticket_messages.c.id)
    )
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
        .join(ticket_messages, ticket_messages.c.ticket_number == tickets.c.number)
        .where(ticket_messages.c.contact_id == contact_id)
    )
    return result.mappings().first()


async def attachment(session: AsyncSession, number: int, attachment_id: uuid.UUID) -> RowMapping | None:
    """One attachment of one ticket (both must match, so an id cannot be read through another ticket)."""
    result = await session.execute(
        select(ticket_attachments)
        .join(ticket_messages, ticket_messages.c.id == ticket_attachments.c.message_id)
        .where(ticket_attachments.c.id == attachment_id, ticket_messages.c.ticket_number == number)
    )
    return result.mappings().first()
