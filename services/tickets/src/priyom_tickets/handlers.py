"""One function per consumed message type, thin: find what the message is about, make the change through
:mod:`.changes` in one transaction with the inbox record (so a repeat changes nothing), then flush the outbox.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import ContactAssigned, ContactRouted, DeliveryReported, utcnow
from priyom_kit import PermanentError, TransientError, get_logger
from priyom_kit.db import Inbox

from . import changes, store
from .arrivals import Appended, Ignored, Registered, inbox_key, register_contact
from .outbox import Relay
from .policy import QUIET, Policy

log = get_logger("priyom.tickets.handlers")

#: The inbox consumer names: the topology queues the handlers serve.
CONSUMER = "tickets.contacts"
DELIVERIES = "tickets.deliveries"
ASSIGNMENTS = "tickets.assignments"


async def on_contact_routed(event: ContactRouted, *, sessions: async_sessionmaker[AsyncSession], inbox: Inbox,
                            relay: Relay, policy: Policy = QUIET) -> Registered:
    """Register the routed contact, then send what it staged (its announcement, again for a duplicate)."""
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
    # The contact is safely recorded: a broker hiccup now must not send it round the retries to the dead
    # letters. What stays unpublished goes out with the scheduler's next round.
    await relay.flush_quietly()
    return outcome


async def on_delivery_reported(event: DeliveryReported, *, sessions: async_sessionmaker[AsyncSession],
                               inbox: Inbox) -> bool:
    """Record what the channel adapter did with a reply; False for a repeat. A report for a reply we never
    sent is dead-lettered (it can never apply)."""
    key = inbox_key(event.channel, event.idempotency_key)
    async with sessions() as session:
        if await inbox.recall(session, key) is not None:
            return False
        message = await store.message_of_reply(session, event.reply_id)
        if message is None:
            raise PermanentError(f"delivery report for unknown reply {event.reply_id}")
        await changes.record_delivery(session, message, event, utcnow())
        return await _commit_once(session, inbox, key, {"reply_id": str(event.reply_id), "status": event.status})


async def on_contact_assigned(event: ContactAssigned, *, sessions: async_sessionmaker[AsyncSession],
                              inbox: Inbox) -> bool:
    """The router gave a contact that waited in a team queue to an agent: the ticket's assignee (and team)
    follow, with a history line saying why. False for a repeat, a ticket already closed or already theirs.

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
        changed = await changes.assign(session, ticket, event, utcnow())
        if not await _commit_once(session, inbox, key, {"number": ticket["number"], "assignee": event.assignee}):
            return False
        log.info("ticket assigned" if changed else "assignment left the ticket as it was",
                 number=ticket["number"], correlation_id=str(event.correlation_id))
        return changed


async def _commit_once(session: AsyncSession, inbox: Inbox, key: str, outcome: dict[str, object]) -> bool:
    """Record the outcome and commit; False (rolled back) when a concurrent delivery recorded it first."""
    if not await inbox.record(session, key, outcome):
        await session.rollback()
        return False
    await session.commit()
    return True
