"""One function per consumed message type. Tickets owns data, so its handler is the kit's inbox pattern:
write and record the outcome in one transaction, publish only after the commit.

A contact can arrive twice: a redelivery after a crash, a retry after a failed publish, or two deliveries
racing on two consumers. The inbox answers the sequential cases; the UNIQUE constraints on ``contact_id`` and
``(channel, idempotency_key)`` answer the race, and the loser re-reads what the winner committed. Either way
the same ``TicketCreated`` (same ``message_id``) is published again, so a subscriber that missed it because we
crashed between commit and publish gets it, and one that saw it can drop it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import (
    ContactAssigned,
    ContactRouted,
    DeliveryReported,
    Event,
    TicketCreated,
    TicketStatus,
    utcnow,
)
from priyom_kit import PermanentError, TransientError, get_logger
from priyom_kit.db import Inbox

from . import store, workflow
from .automated import file_automated
from .call_backs import schedule_call_back
from .followups import closed_ticket_answered_by, open_ticket_continued_by
from .lifecycle import FINAL
from .outbox import Relay
from .satisfaction import parse_rating, rate

log = get_logger("priyom.tickets.handlers")

#: The inbox consumer names: the topology queues the handlers serve.
CONSUMER = "tickets.contacts"
DELIVERIES = "tickets.deliveries"
ASSIGNMENTS = "tickets.assignments"
#: Without settings (tests of the registration alone): numbers in UTC years, no notices.
QUIET = workflow.Policy(zone=ZoneInfo("UTC"), outbound_channels=frozenset())
_INBOX_KEY_MAX = 512

Publish = Callable[[Event], Awaitable[None]]


def inbox_key(channel: str, idempotency_key: str) -> str:
    """The inbox key of an arrival: the channel's own key, scoped by channel so channels cannot collide.

    The kit's inbox column holds 512 characters, as does the key alone; a key that no longer fits once
    prefixed is replaced by its digest, which identifies it just as well.
    """
    key = f"{channel}:{idempotency_key}"
    if len(key) <= _INBOX_KEY_MAX:
        return key
    return f"{channel}:sha256:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"


def ticket_created(event: ContactRouted, number: str) -> TicketCreated:
    """The event announcing a new ticket; it shares the contact's correlation id, channel and key."""
    routing = event.routing
    return TicketCreated(
        correlation_id=event.correlation_id,
        channel=event.channel,
        idempotency_key=event.idempotency_key,
        number=number,
        contact_id=event.contact.contact_id,
        client_id=event.client.client_id,
        first_contact=event.client.first_contact,
        type=routing.type,
        urgency=routing.urgency,
        status=TicketStatus.NEW,
        team=routing.team,
        assignee=routing.assignee,
        first_response_due_at=routing.first_response_due_at,
        resolution_due_at=routing.resolution_due_at,
    )


@dataclass(frozen=True)
class Appended:
    """The outcome of a contact that continued an open ticket instead of opening one."""

    number: str
    contact_id: str


@dataclass(frozen=True)
class Ignored:
    """A machine-written contact (auto-reply, bounce) that answers no ticket we know: it opens none."""

    contact_id: str
    automated: str


Registered = TicketCreated | Appended | Ignored


def _outcome(recorded: dict[str, Any]) -> Registered:
    if "ignored" in recorded:
        return Ignored(recorded["contact_id"], recorded["ignored"])
    if "appended_to" in recorded:
        return Appended(recorded["appended_to"], recorded["contact_id"])
    return TicketCreated.model_validate(recorded)


async def register_contact(
    sessions: async_sessionmaker[AsyncSession], inbox: Inbox, event: ContactRouted,
    policy: workflow.Policy = QUIET,
) -> tuple[Registered, bool]:
    """Make the contact a ticket, or a message on the open ticket it continues, exactly once.

    Returns the outcome (the ``TicketCreated`` to publish, or where it was appended) and whether it is new.
    Nothing is published here: the caller publishes after this returns, that is, after the commit.
    """
    key = inbox_key(event.channel, event.idempotency_key)
    async with sessions() as session:
        try:
            await store.lock_arrival(session, key)
            recorded = await inbox.recall(session, key)
            if recorded is not None:
                return _outcome(recorded), False
            now = utcnow()
            outcome: Registered
            if event.contact.automated is not None:
                outcome, record = await _automated(session, event, now)
                if not await inbox.record(session, key, record):
                    raise _LostRace(key)
                await session.commit()
                return outcome, True
            ongoing = await open_ticket_continued_by(session, event)
            rated = None if ongoing else await _survey_answer(session, event, policy, now)
            if rated is not None:
                outcome = Appended(rated, str(event.contact.contact_id))
                record = {"appended_to": outcome.number, "contact_id": outcome.contact_id}
            elif ongoing is not None:
                await workflow.append_followup(session, ongoing, event, policy=policy, now=now)
                await schedule_call_back(session, ongoing, event, now)
                outcome = Appended(ongoing["number"], str(event.contact.contact_id))
                record = {"appended_to": outcome.number, "contact_id": outcome.contact_id}
            else:
                ticket = await workflow.register(session, event, policy=policy, now=now)
                await schedule_call_back(session, ticket, event, now)
                outcome = ticket_created(event, ticket["number"])
                record = outcome.model_dump(mode="json")
            if not await inbox.record(session, key, record):
                raise _LostRace(key)
            await session.commit()
            return outcome, True
        except (IntegrityError, _LostRace):
            await session.rollback()
        # A concurrent delivery of the same arrival committed first: announce what it recorded.
        return await _already_registered(session, inbox, event), False


async def _survey_answer(session: AsyncSession, event: ContactRouted, policy: workflow.Policy,
                         now: datetime) -> str | None:
    """A rating answering the closing survey of a recently closed ticket: kept on that ticket, with the
    message; the ticket's number, or None when the contact is no such answer."""
    answer = parse_rating(event.contact.body)
    if answer is None:
        return None
    closed = await closed_ticket_answered_by(session, event, closed_after=now - policy.survey_window)
    if closed is None or not await rate(session, closed, *answer, channel=event.channel, actor="customer",
                                        now=now):
        return None
    await store.insert_inbound_message(session, closed["seq"], event)
    return closed["number"]


async def _automated(session: AsyncSession, event: ContactRouted,
                     now: datetime) -> tuple[Registered, dict[str, Any]]:
    contact_id = str(event.contact.contact_id)
    ticket = await file_automated(session, event, now)
    if ticket is None:
        kind = event.contact.automated.value if event.contact.automated else "automated"
        return Ignored(contact_id, kind), {"ignored": kind, "contact_id": contact_id}
    return Appended(ticket["number"], contact_id), {"appended_to": ticket["number"], "contact_id": contact_id}


class _LostRace(Exception):
    """The inbox already held the key when we came to record it: another delivery won."""


async def _already_registered(session: AsyncSession, inbox: Inbox, event: ContactRouted) -> Registered:
    recorded = await inbox.recall(session, inbox_key(event.channel, event.idempotency_key))
    if recorded is not None:
        return _outcome(recorded)
    row = await store.ticket_of_arrival(session, event.contact.contact_id, event.channel,
                                        event.idempotency_key)
    if row is None:
        landed = await store.ticket_of_contact(session, event.contact.contact_id)
        if landed is not None:
            return Appended(landed["number"], str(event.contact.contact_id))
        # The constraint fired but the winner is not visible: it rolled back. A retry will insert afresh.
        raise TransientError(f"contact {event.contact.contact_id}: conflicting insert vanished, retry")
    # Same contact under a different key, or the same key for another contact id: the ticket already exists.
    log.warning("contact already has a ticket under other identifiers", number=row["number"],
                contact_id=str(event.contact.contact_id), channel=event.channel)
    first = await inbox.recall(session, inbox_key(row["channel"], row["idempotency_key"]))
    if first is not None:
        return _outcome(first)
    return TicketCreated.model_validate(_event_from_row(row))


def _event_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Rebuild the announcement of an existing ticket from its row (used only when no outcome was kept)."""
    return {
        "correlation_id": row["contact_id"],
        "channel": row["channel"],
        "idempotency_key": row["idempotency_key"],
        "number": row["number"],
        "contact_id": row["contact_id"],
        "client_id": row["client_id"],
        "first_contact": row["first_contact"],
        "type": row["type"],
        "urgency": row["urgency"],
        "status": row["status"],
        "team": row["team"],
        "assignee": row["assignee"],
        "first_response_due_at": row["first_response_due_at"],
        "resolution_due_at": row["resolution_due_at"],
    }


async def on_contact_routed(
    event: ContactRouted, *, sessions: async_sessionmaker[AsyncSession], inbox: Inbox, publish: Publish,
    relay: Relay | None = None, policy: workflow.Policy = QUIET,
) -> Registered:
    """Register the routed contact, then announce it (again, for a duplicate) and send what it staged."""
    outcome, new = await register_contact(sessions, inbox, event, policy)
    if isinstance(outcome, Ignored):
        log.info("machine-written contact answers no ticket: dropped", automated=outcome.automated,
                 channel=event.channel, correlation_id=str(event.correlation_id))
    elif isinstance(outcome, Appended):
        log.info("contact appended to its open ticket" if new else "duplicate follow-up contact",
                 number=outcome.number, channel=event.channel, correlation_id=str(event.correlation_id))
    else:
        log.info("ticket created" if new else "duplicate contact, announcing its ticket again",
                 number=outcome.number, channel=outcome.channel, correlation_id=str(outcome.correlation_id))
        await publish(outcome)
    if relay is not None:
        # The contact is safely recorded: a broker hiccup now must not send it round the retries to the
        # dead letters. What stays unpublished goes out with the scheduler's next round.
        await relay.flush_quietly()
    return outcome


async def on_delivery_reported(
    event: DeliveryReported, *, sessions: async_sessionmaker[AsyncSession], inbox: Inbox
) -> bool:
    """Record what the channel adapter did with a reply on the reply's message; False for a repeat.

    A report for a reply we never sent is dead-lettered (it can never apply); a late ``retrying`` does not
    overwrite a final ``delivered`` or ``failed``.
    """
    key = inbox_key(event.channel, event.idempotency_key)
    async with sessions() as session:
        if await inbox.recall(session, key) is not None:
            return False
        message = (await session.execute(select(store.ticket_messages).where(
            store.ticket_messages.c.reply_id == event.reply_id))).mappings().first()
        if message is None:
            raise PermanentError(f"delivery report for unknown reply {event.reply_id}")
        final = message["delivery_status"] in ("delivered", "failed")
        if not (final and event.status == "retrying"):
            values: dict[str, Any] = {"delivery_status": event.status.value, "delivery_detail": event.detail}
            if event.external_message_id:
                values["external_message_id"] = event.external_message_id
            await session.execute(store.ticket_messages.update()
                                  .where(store.ticket_messages.c.id == message["id"]).values(**values))
            if event.status == "delivered":
                # A reply sent after the failure got through: the customer is reachable again.
                await session.execute(store.tickets.update().where(
                    store.tickets.c.seq == message["ticket_seq"],
                    store.tickets.c.delivery_failed_at < message["created_at"]).values(delivery_failed_at=None))
            if event.status == "failed":
                await store.update_ticket(session, message["ticket_seq"], delivery_failed_at=utcnow())
                await store.add_history(session, message["ticket_seq"], at=utcnow(), actor=event.channel,
                                        action="delivery_failed",
                                        details={"reply_id": str(event.reply_id), "detail": event.detail})
        if not await inbox.record(session, key, {"reply_id": str(event.reply_id), "status": event.status}):
            await session.rollback()
            return False
        await session.commit()
        return True


async def on_contact_assigned(
    event: ContactAssigned, *, sessions: async_sessionmaker[AsyncSession], inbox: Inbox
) -> bool:
    """The router gave a contact that waited in a team queue to an agent: the ticket's assignee (and team)
    follow, with a history line saying why. False for a repeat or a ticket already closed.

    The assignment and the routed contact travel on different queues, so the assignment can arrive first:
    then the ticket is not there yet and the message goes round the retries until it is.
    """
    key = inbox_key(event.channel, event.idempotency_key)
    async with sessions() as session:
        if await inbox.recall(session, key) is not None:
            return False
        ticket = await store.ticket_of_assigned_contact(session, event.contact_id, event.ticket_number)
        if ticket is None:
            raise TransientError(f"contact {event.contact_id} has no ticket yet to assign")
        changed = TicketStatus(ticket["status"]) not in FINAL and (
            ticket["assignee"], ticket["team"]) != (event.assignee, event.team)
        if changed:
            now = utcnow()
            await store.update_ticket(session, ticket["seq"], assignee=event.assignee, team=event.team,
                                      updated_at=now)
            await store.add_history(session, ticket["seq"], at=now, actor="router", action="assigned",
                                    details={"from": ticket["assignee"], "to": event.assignee,
                                             "team": event.team, "reason": event.reason})
        if not await inbox.record(session, key, {"number": ticket["number"], "assignee": event.assignee}):
            await session.rollback()
            return False
        await session.commit()
        log.info("ticket assigned" if changed else "assignment left the ticket as it was",
                 number=ticket["number"], correlation_id=str(event.correlation_id))
        return changed
