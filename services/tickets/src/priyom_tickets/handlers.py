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
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import ContactRouted, Event, TicketCreated, TicketStatus, utcnow
from priyom_kit import TransientError, get_logger
from priyom_kit.db import Inbox

from . import store

log = get_logger("priyom.tickets.handlers")

#: The inbox consumer name: the topology queue this handler serves.
CONSUMER = "tickets.contacts"
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


def ticket_created(event: ContactRouted, number: int) -> TicketCreated:
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


async def register_contact(
    sessions: async_sessionmaker[AsyncSession], inbox: Inbox, event: ContactRouted
) -> tuple[TicketCreated, bool]:
    """Make the contact a ticket exactly once. Returns the ``TicketCreated`` to publish and whether it is new.

    Nothing is published here: the caller publishes after this returns, that is, after the commit.
    """
    key = inbox_key(event.channel, event.idempotency_key)
    async with sessions() as session:
        try:
            await store.lock_arrival(session, key)
            recorded = await inbox.recall(session, key)
            if recorded is not None:
                return TicketCreated.model_validate(recorded), False
            number = await store.insert_ticket(session, event, utcnow())
            created = ticket_created(event, number)
            if not await inbox.record(session, key, created.model_dump(mode="json")):
                raise _LostRace(key)
            await session.commit()
            return created, True
        except (IntegrityError, _LostRace):
            await session.rollback()
        # A concurrent delivery of the same arrival committed first: announce what it recorded.
        return await _already_registered(session, inbox, event), False


class _LostRace(Exception):
    """The inbox already held the key when we came to record it: another delivery won."""


async def _already_registered(session: AsyncSession, inbox: Inbox, event: ContactRouted) -> TicketCreated:
    recorded = await inbox.recall(session, inbox_key(event.channel, event.idempotency_key))
    if recorded is not None:
        return TicketCreated.model_validate(recorded)
    row = await store.ticket_of_arrival(session, event.contact.contact_id, event.channel,
                                        event.idempotency_key)
    if row is None:
        # The constraint fired but the winner is not visible: it rolled back. A retry will insert afresh.
        raise TransientError(f"contact {event.contact.contact_id}: conflicting insert vanished, retry")
    # Same contact under a different key, or the same key for another contact id: the ticket already exists.
    log.warning("contact already has a ticket under other identifiers", number=row["number"],
                contact_id=str(event.contact.contact_id), channel=event.channel)
    first = await inbox.recall(session, inbox_key(row["channel"], row["idempotency_key"]))
    if first is not None:
        return TicketCreated.model_validate(first)
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
    event: ContactRouted, *, sessions: async_sessionmaker[AsyncSession], inbox: Inbox, publish: Publish
) -> TicketCreated:
    """Register the routed contact as a ticket, then announce it (again, for a duplicate)."""
    created, new = await register_contact(sessions, inbox, event)
    if new:
        log.info("ticket created", number=created.number, channel=created.channel,
                 correlation_id=str(created.correlation_id))
    else:
        log.info("duplicate contact, announcing its ticket again", number=created.number,
                 channel=created.channel, correlation_id=str(created.correlation_id))
    await publish(created)
    return created
