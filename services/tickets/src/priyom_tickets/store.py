"""Every query on the tickets tables (:mod:`.tables`), each in the caller's transaction. The row writes are
called by :mod:`.changes` alone, which pairs each with its history line and its events. Statements every
contact runs are built once: constructing and cache-keying one per message costs more CPU than running it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, true
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import AttachmentRef, ContactRouted, ContactType, Event, TicketStatus, utcnow
from priyom_kit import outbox
from priyom_kit.driver_statements import fetch_mappings

from .numbering import NUMBER_RE
from .reply_paths import reach_of, where_from
from .sender_trust import sender_auth_of
from .tables import (
    ticket_activities,
    ticket_attachments,
    ticket_history,
    ticket_messages,
    ticket_outbox,
    ticket_ratings,
    tickets,
)

#: Most tickets one list request returns; the API refuses more rather than serving an unbounded page.
MAX_PAGE = 200
#: Statuses whose resolution clock has stopped.
DONE = ("resolved", "closed", "cancelled", "rejected", "awaiting_confirm")

_INSERT_MESSAGE = ticket_messages.insert()


# -- writes (for changes.py) -------------------------------------------------------------------------------


def ticket_row(event: ContactRouted, now: datetime, due: tuple[datetime, datetime] | None = None) -> dict[str, Any]:
    """A new ticket's row from the contact that opens it, but its number (drawn with the insert: new_tickets.py).
    ``due`` (first response, resolution) replaces the router's deadlines when tickets' own SLA policy covers
    the client's tier and the ticket type."""
    contact, client, routing = event.contact, event.client, event.routing
    first_response_due_at, resolution_due_at = due or (routing.first_response_due_at, routing.resolution_due_at)
    return dict(
        id=uuid.uuid4(), contact_id=contact.contact_id, channel=event.channel,
        idempotency_key=event.idempotency_key, client_id=client.client_id, person_id=client.person_id,
        first_contact=client.first_contact, type=routing.type.value, category=routing.category,
        urgency=routing.urgency.value, status=TicketStatus.NEW.value, team=routing.team,
        assignee=routing.assignee, subject=contact.subject, routing_reason=routing.reason,
        first_response_due_at=first_response_due_at, resolution_due_at=resolution_due_at, created_at=now,
        updated_at=now, status_changed_at=now, sla_tier=client.sla_tier,
        client_name=client.display_name or client.organisation, reach=reach_of(client))


def inbound_message_row(event: ContactRouted, *, flag: str | None = None) -> dict[str, Any]:
    """A customer's contact as a message (a new id), with its sender authentication and flag, but its ticket's
    ``ticket_seq``."""
    contact, client = event.contact, event.client
    return dict(
        id=uuid.uuid4(), contact_id=contact.contact_id, direction="inbound",
        author_name=contact.sender.name or client.display_name,
        thread=contact.thread.model_dump(mode="json", exclude_defaults=True) or None,
        subject=contact.subject, body=contact.body, created_at=contact.received_at,
        automated=contact.automated.value if contact.automated else None, unread_reason=contact.unread_reason,
        sender_auth=sender_auth_of(contact), sender_flag=flag, **where_from(event))


async def insert_inbound_message(session: AsyncSession, seq: int, event: ContactRouted, *,
                                 flag: str | None = None) -> uuid.UUID:
    """A customer's contact as a message on ticket ``seq``, with attachments, sender authentication, flag."""
    row = inbound_message_row(event, flag=flag)
    await session.execute(_INSERT_MESSAGE, {"ticket_seq": seq, **row})
    await insert_attachments(session, row["id"], event.contact.attachments)
    return row["id"]  # type: ignore[no-any-return]


async def insert_outbound_message(session: AsyncSession, seq: int, *, channel: str, author_name: str | None,
                                  subject: str | None, body: str, created_at: datetime, thread_key: str | None,
                                  reply_id: uuid.UUID, kind: str, delivery_status: str,
                                  reply_key: str | None) -> uuid.UUID:
    """A reply or notice of ours on ticket ``seq``. On the driver (:mod:`priyom_kit.driver_statements`): every
    new ticket's registration notice is one, and SQLAlchemy's processing of it cost more than the statement."""
    message_id = uuid.uuid4()
    await fetch_mappings(session, _INSERT_OUTBOUND, dict(
        id=message_id, ticket_seq=seq, direction="outbound", channel=channel, author_name=author_name,
        subject=subject, body=body, created_at=created_at, thread_key=thread_key, reply_id=reply_id, kind=kind,
        delivery_status=delivery_status, reply_key=reply_key))
    return message_id


_INSERT_OUTBOUND = ticket_messages.insert().values({name: bindparam(name, type_=ticket_messages.c[name].type) for name in (
    "id", "ticket_seq", "direction", "channel", "author_name", "subject", "body", "created_at", "thread_key", "reply_id",
    "kind", "delivery_status", "reply_key")})


async def insert_attachments(session: AsyncSession, message_id: uuid.UUID,
                             attachments: Sequence[AttachmentRef]) -> None:
    if attachments:
        await session.execute(ticket_attachments.insert(), [
            {"id": uuid.uuid4(), "message_id": message_id, "blob_key": a.blob_key, "filename": a.filename,
             "content_type": a.content_type, "size": a.size} for a in attachments])


async def add_history(session: AsyncSession, seq: int, *, at: datetime, actor: str, action: str,
                      from_status: str | None = None, to_status: str | None = None,
                      details: dict[str, Any] | None = None) -> int:
    """One line of the audit history (the caller's transaction decides whether it stays); returns its id."""
    line = history_row(at=at, actor=actor, action=action, from_status=from_status, to_status=to_status,
                       details=details)
    return (await session.execute(_INSERT_HISTORY, {"ticket_seq": seq, **line})).scalar_one()  # type: ignore[no-any-return]


def history_row(*, at: datetime, actor: str, action: str, from_status: str | None = None,
                to_status: str | None = None, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A history line's columns but its ticket's ``ticket_seq``."""
    return dict(at=at, actor=actor, action=action, from_status=from_status, to_status=to_status,
                details=details or None)


_INSERT_HISTORY = ticket_history.insert().returning(ticket_history.c.id)


async def update_ticket(session: AsyncSession, seq: int, **values: Any) -> None:
    """Set ``values`` on ticket ``seq`` (changes.py writes the history line that says why)."""
    await session.execute(tickets.update().where(tickets.c.seq == seq).values(**values))


async def clear_delivery_failure(session: AsyncSession, seq: int, before: datetime) -> None:
    """A reply sent after the failure got through: the customer is reachable again."""
    await session.execute(tickets.update().where(tickets.c.seq == seq, tickets.c.delivery_failed_at < before)
                          .values(delivery_failed_at=None))


async def update_message(session: AsyncSession, message_id: uuid.UUID, **values: Any) -> None:
    await session.execute(ticket_messages.update().where(ticket_messages.c.id == message_id).values(**values))


async def insert_activity(session: AsyncSession, **values: Any) -> uuid.UUID:
    await session.execute(ticket_activities.insert().values(id=(activity_id := uuid.uuid4()), **values))
    return activity_id


async def update_activity(session: AsyncSession, activity_id: uuid.UUID, **values: Any) -> None:
    await session.execute(ticket_activities.update().where(ticket_activities.c.id == activity_id)
                          .values(**values))


async def insert_rating(session: AsyncSession, seq: int, **values: Any) -> None:
    await session.execute(ticket_ratings.insert().values(ticket_seq=seq, **values))


async def stage_events(session: AsyncSession, events: Iterable[Event], now: datetime) -> None:
    """Outbox rows for events to publish once the caller's transaction commits (the kit's outbox)."""
    await outbox.stage_events(session, ticket_outbox, events, now)


# -- reading tickets ---------------------------------------------------------------------------------------


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
    #: Still being worked (status not in DONE); nobody assigned (waiting in the team's queue).
    working: bool | None = None
    unassigned: bool | None = None
    #: Text search: an exact number, or words in the subject or any message.
    q: str | None = None
    #: What the viewer may see: these teams' tickets and those assigned to ``viewer``; None is everything.
    teams: frozenset[str] | None = None
    viewer: str | None = None

    def clauses(self) -> list[Any]:
        wanted = {
            tickets.c.status: self.status.value if self.status else None, tickets.c.assignee: self.assignee,
            tickets.c.team: self.team, tickets.c.client_id: self.client_id, tickets.c.channel: self.channel,
            tickets.c.first_contact: self.first_contact, tickets.c.type: self.type.value if self.type else None,
        }
        clauses = [column == value for column, value in wanted.items() if value is not None]
        if self.overdue is not None:
            late = overdue(self.now or utcnow())
            clauses.append(late if self.overdue else ~late)
        if self.working is not None:
            clauses.append(tickets.c.status.not_in(DONE) if self.working else tickets.c.status.in_(DONE))
        if self.unassigned is not None:
            clauses.append(tickets.c.assignee.is_(None) == self.unassigned)
        if self.q:
            clauses.append(_matches_text(self.q))
        if self.teams is not None:
            clauses.append(tickets.c.team.in_(sorted(self.teams)) | (tickets.c.assignee == self.viewer))
        return clauses


def overdue(now: datetime) -> Any:
    """Late as of ``now``: still worked, past the resolution deadline or unanswered past the first response's."""
    working = tickets.c.status.not_in(DONE)
    unanswered = tickets.c.first_responded_at.is_(None) & (tickets.c.first_response_due_at < now)
    return working & ((tickets.c.resolution_due_at < now) | unanswered)


def _matches_text(q: str) -> Any:
    q = q.strip()
    if NUMBER_RE.match(q):
        return tickets.c.number == q
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    in_messages = select(ticket_messages.c.ticket_seq).where(ticket_messages.c.body.ilike(pattern, escape="\\"))
    return tickets.c.subject.ilike(pattern, escape="\\") | tickets.c.seq.in_(in_messages)


async def list_tickets(session: AsyncSession, where: TicketFilter, *, limit: int, offset: int
                       ) -> tuple[list[RowMapping], int]:
    """One page of tickets, newest first, and how many match in all."""
    clauses = where.clauses()
    total = await session.scalar(select(func.count()).select_from(tickets).where(*clauses))
    rows = await session.execute(select(tickets).where(*clauses).order_by(tickets.c.seq.desc())
                                 .limit(limit).offset(offset))
    return list(rows.mappings()), int(total or 0)


async def get_ticket(session: AsyncSession, number: str, *, for_update: bool = False) -> RowMapping | None:
    """A ticket by its number; ``for_update`` locks the row (PostgreSQL) so two changes queue."""
    query = select(tickets).where(tickets.c.number == number)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().first()


async def ticket_of_arrival(session: AsyncSession, contact_id: uuid.UUID, channel: str, idempotency_key: str
                            ) -> RowMapping | None:
    """The ticket an arrival already produced: by its contact, or by the channel's own key for it."""
    return (await session.execute(select(tickets).where(
        (tickets.c.contact_id == contact_id)
        | ((tickets.c.channel == channel) & (tickets.c.idempotency_key == idempotency_key))).limit(1)
    )).mappings().first()


async def ticket_of_contact(session: AsyncSession, contact_id: uuid.UUID) -> RowMapping | None:
    """The ticket a contact landed on, through its message, so a follow-up contact finds its ticket too."""
    return (await session.execute(
        select(tickets.c.number, tickets.c.status, tickets.c.created_at)
        .join(ticket_messages, ticket_messages.c.ticket_seq == tickets.c.seq)
        .where(ticket_messages.c.contact_id == contact_id))).mappings().first()


async def ticket_of_assigned_contact(session: AsyncSession, contact_id: uuid.UUID,
                                     number: str | None) -> RowMapping | None:
    """The ticket a contact landed on (locked for the change): by the number when the router knows it and
    the contact is on that ticket, otherwise through the contact's message."""
    query = (select(tickets).join(ticket_messages, ticket_messages.c.ticket_seq == tickets.c.seq)
             .where(ticket_messages.c.contact_id == contact_id))
    if number:
        query = query.where(tickets.c.number == number)
    return (await session.execute(query.limit(1).with_for_update(of=tickets))).mappings().first()


async def tickets_silent_since(session: AsyncSession, statuses: Iterable[str], before: datetime, limit: int
                               ) -> list[RowMapping]:
    """Tickets in ``statuses`` unchanged since ``before``, locked; rows another instance holds are skipped."""
    return list((await session.execute(
        select(tickets).where(tickets.c.status.in_(list(statuses)), tickets.c.status_changed_at < before)
        .order_by(tickets.c.seq).limit(limit).with_for_update(skip_locked=True))).mappings())


async def tickets_newly_late(session: AsyncSession, now: datetime, limit: int) -> list[RowMapping]:
    """Late tickets not yet marked so, locked; rows another instance holds are skipped."""
    return list((await session.execute(
        select(tickets).where(overdue(now), tickets.c.overdue_at.is_(None))
        .order_by(tickets.c.seq).limit(limit).with_for_update(skip_locked=True))).mappings())


# -- messages, history, attachments ------------------------------------------------------------------------


async def messages_of(session: AsyncSession, seq: int) -> list[RowMapping]:
    """A ticket's messages in the order they happened."""
    return list((await session.execute(select(ticket_messages).where(ticket_messages.c.ticket_seq == seq)
                                       .order_by(ticket_messages.c.created_at, ticket_messages.c.id))).mappings())


async def first_message_body(session: AsyncSession, seq: int, contact_id: uuid.UUID) -> str | None:
    """The text of the contact that opened the ticket."""
    return (await session.execute(select(ticket_messages.c.body).where(
        ticket_messages.c.ticket_seq == seq, ticket_messages.c.contact_id == contact_id))).scalar_one_or_none()


async def message_of_reply(session: AsyncSession, reply_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(select(ticket_messages).where(ticket_messages.c.reply_id == reply_id))
            ).mappings().first()


async def our_message(session: AsyncSession, seq: int, *, named: Sequence[str], channel: str
                      ) -> RowMapping | None:
    """Our message on ticket ``seq`` among ``named`` ids, else the latest we sent on ``channel``."""
    ours = (ticket_messages.c.ticket_seq == seq) & (ticket_messages.c.direction == "outbound")
    if named:
        found = (await session.execute(select(ticket_messages).where(
            ours, ticket_messages.c.external_message_id.in_(list(named))))).mappings().first()
        if found is not None:
            return found
    return (await session.execute(select(ticket_messages).where(ours, ticket_messages.c.channel == channel)
                                  .order_by(ticket_messages.c.created_at.desc()).limit(1))).mappings().first()


async def history_of(session: AsyncSession, seq: int) -> list[RowMapping]:
    """A ticket's audit history, oldest first."""
    return list((await session.execute(select(ticket_history).where(ticket_history.c.ticket_seq == seq)
                                       .order_by(ticket_history.c.id))).mappings())


async def attachments_of(session: AsyncSession, message_ids: list[uuid.UUID]) -> list[RowMapping]:
    if not message_ids:
        return []
    return list((await session.execute(
        select(ticket_attachments).where(ticket_attachments.c.message_id.in_(message_ids))
        .order_by(ticket_attachments.c.filename, ticket_attachments.c.id))).mappings())


async def attachment(session: AsyncSession, number: str, attachment_id: uuid.UUID) -> RowMapping | None:
    """One attachment of one ticket (both must match, so an id cannot be read through another ticket)."""
    return (await session.execute(
        select(ticket_attachments)
        .join(ticket_messages, ticket_messages.c.id == ticket_attachments.c.message_id)
        .join(tickets, tickets.c.seq == ticket_messages.c.ticket_seq)
        .where(ticket_attachments.c.id == attachment_id, tickets.c.number == number))).mappings().first()


# -- activities and ratings --------------------------------------------------------------------------------


async def activities_of(session: AsyncSession, seq: int) -> list[RowMapping]:
    return list((await session.execute(select(ticket_activities).where(ticket_activities.c.ticket_seq == seq)
                                       .order_by(ticket_activities.c.due_at, ticket_activities.c.id))).mappings())


async def activity(session: AsyncSession, activity_id: uuid.UUID) -> RowMapping | None:
    """One activity (locked) with its ticket's number."""
    return (await session.execute(select(ticket_activities, tickets.c.number)
                                  .join(tickets, tickets.c.seq == ticket_activities.c.ticket_seq)
                                  .where(ticket_activities.c.id == activity_id).with_for_update())
            ).mappings().first()


async def activities_of_owner(session: AsyncSession, owner: str, *, done: bool | None, due_before: datetime | None,
                              limit: int, teams: frozenset[str] | None = None) -> list[RowMapping]:
    """An owner's list, soonest first, with the ticket number each belongs to; ``teams``: only those teams'."""
    query = (select(ticket_activities, tickets.c.number)
             .join(tickets, tickets.c.seq == ticket_activities.c.ticket_seq)
             .where(ticket_activities.c.owner == owner, true() if teams is None else tickets.c.team.in_(teams)))
    if done is not None:
        query = query.where(ticket_activities.c.done_at.is_not(None) if done
                            else ticket_activities.c.done_at.is_(None))
    if due_before is not None:
        query = query.where(ticket_activities.c.due_at < due_before)
    return list((await session.execute(query.order_by(ticket_activities.c.due_at, ticket_activities.c.id)
                                       .limit(limit))).mappings())


async def rating_of(session: AsyncSession, seq: int) -> RowMapping | None:
    return (await session.execute(select(ticket_ratings).where(ticket_ratings.c.ticket_seq == seq))
            ).mappings().first()
