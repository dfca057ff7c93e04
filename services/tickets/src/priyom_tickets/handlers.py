"""One function per consumed message type, thin: find what the message is about, make the change through
:mod:`.changes` in one transaction with the inbox record (so a repeat changes nothing), then flush the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import ClientChanged, ContactAssigned, ContactRouted, DeliveryReported, Erasure, utcnow
from priyom_kit import PermanentError, TransientError, get_logger
from priyom_kit.batches import Within
from priyom_kit.blobs import BlobStore
from priyom_kit.db import Inbox, InboxBatch
from priyom_kit.outbox import Relay

from . import card_changes, changes, erasure_redaction, store
from .agent_card import IdentityCards
from .arrivals import Appended, Ignored, Registered, inbox_key, register_contact, register_contacts
from .policy import QUIET, Policy

log = get_logger("priyom.tickets.handlers")

#: The inbox consumer names: the topology queues the handlers serve.
CONSUMER = "tickets.contacts"
DELIVERIES = "tickets.deliveries"
ASSIGNMENTS = "tickets.assignments"
CLIENT_CHANGES = "tickets.client-changes"


async def on_contact_routed(event: ContactRouted, *, sessions: async_sessionmaker[AsyncSession], inbox: Inbox,
                            relay: Relay, policy: Policy = QUIET) -> tuple[Registered, bool]:
    """Register the routed contact, then send what it staged (its announcement, again for a duplicate)."""
    outcome = await register_contact(sessions, inbox, event, policy)
    # The contact is safely recorded: a broker hiccup now must not send it round the retries to the dead
    # letters. What stays unpublished goes out with the scheduler's next round.
    await relay.flush_quietly()
    return outcome


async def on_contacts_routed(events: Sequence[ContactRouted], within: Within | None = None, *,
                             sessions: async_sessionmaker[AsyncSession], inbox: Inbox, relay: Relay,
                             policy: Policy = QUIET) -> list[tuple[Registered, bool]]:
    """:func:`on_contact_routed` for a batch (:class:`priyom_kit.batches.Batches`): one transaction, one flush."""
    outcomes = await register_contacts(sessions, inbox, events, policy, within)
    await relay.flush_quietly()
    return outcomes


def log_registered(event: ContactRouted, registered: tuple[Registered, bool]) -> None:
    """One line per routed contact, in the delivery's own context: what became of it, no personal data."""
    outcome, new = registered
    if isinstance(outcome, Ignored):
        log.info("machine-written contact answers no ticket: dropped", automated=outcome.automated,
                 channel=event.channel, correlation_id=str(event.correlation_id))
    elif isinstance(outcome, Appended):
        log.info("contact appended to its open ticket" if new else "duplicate follow-up contact",
                 number=outcome.number, channel=event.channel, correlation_id=str(event.correlation_id))
    else:
        log.info("ticket created" if new else "duplicate contact, announcing its ticket again",
                 number=outcome.number, channel=outcome.channel, correlation_id=str(outcome.correlation_id))


async def on_delivery_reported(event: DeliveryReported, *, sessions: async_sessionmaker[AsyncSession],
                               inbox: Inbox) -> bool:
    """Record what the channel adapter did with a reply; False for a repeat. A report for a reply we never
    sent is dead-lettered (it can never apply)."""
    async with sessions() as session:
        if not await _report_in(session, inbox, event):
            await session.rollback()  # a repeat changed nothing; a race lost leaves the winner's record
            return False
        await session.commit()
        return True


async def on_deliveries_reported(events: Sequence[DeliveryReported], within: Within | None = None, *,
                                 sessions: async_sessionmaker[AsyncSession], inbox: Inbox) -> list[bool]:
    """:func:`on_delivery_reported` for a batch (:class:`priyom_kit.batches.Batches`), in one transaction: every
    notice a burst of tickets sent comes back as a report. A report for an unknown reply fails the batch, and
    each report is then handled alone, where that one is dead-lettered."""
    within = within or Within.here()
    async with sessions() as session:
        recorded = await inbox.batch(session, [inbox_key(event.channel, event.idempotency_key) for event in events])
        outcomes = [await within(index, _report_in(session, recorded, event)) for index, event in enumerate(events)]
        await recorded.write(session)
        await session.commit()
    return outcomes


async def _report_in(session: AsyncSession, inbox: Inbox | InboxBatch, event: DeliveryReported) -> bool:
    """The report recorded inside the caller's transaction; False for a repeat, or a race another delivery won."""
    key = inbox_key(event.channel, event.idempotency_key)
    if await inbox.recall(session, key) is not None:
        return False
    message = await store.message_of_reply(session, event.reply_id)
    if message is None:
        raise PermanentError(f"delivery report for unknown reply {event.reply_id}")
    await changes.record_delivery(session, message, event, utcnow())
    return await inbox.record(session, key, {"reply_id": str(event.reply_id), "status": event.status})


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
        changed = await changes.assign(session, ticket, team=event.team, assignee=event.assignee,
                                       reason=event.reason, now=utcnow())
        if not await _commit_once(session, inbox, key, {"number": ticket["number"], "assignee": event.assignee}):
            return False
        log.info("ticket assigned" if changed else "assignment left the ticket as it was",
                 number=ticket["number"], correlation_id=str(event.correlation_id))
        return changed


async def on_client_changed(event: ClientChanged, *, sessions: async_sessionmaker[AsyncSession], inbox: Inbox,
                            cards: IdentityCards) -> list[str]:
    """Identity changed cards: tickets follow a merge (once, by the inbox), then the copies of the cards'
    addresses are read again (idempotent, so on every delivery; see :mod:`.card_changes`). The numbers moved."""
    key = inbox_key(event.channel, event.idempotency_key)
    moved: list[str] = []
    async with sessions() as session:
        if event.merges and await inbox.recall(session, key) is None:
            moved = await card_changes.follow_merges(session, event, utcnow())
            if await _commit_once(session, inbox, key, {"moved": moved}) and moved:
                log.info("tickets followed a card merge", change=event.change.value, tickets=len(moved))
    async with sessions() as session:
        wanted = await card_changes.with_open_tickets(session, card_changes.cards_to_read(event))
    read = await card_changes.read_cards(cards, wanted)
    async with sessions() as session, session.begin():
        await card_changes.forget_erased(session, event)
        await card_changes.keep_cards(session, read, utcnow())
    return moved


async def _commit_once(session: AsyncSession, inbox: Inbox, key: str, outcome: dict[str, object]) -> bool:
    """Record the outcome and commit; False (rolled back) when a concurrent delivery recorded it first."""
    if not await inbox.record(session, key, outcome):
        await session.rollback()
        return False
    await session.commit()
    return True


async def on_erasure(erasure: Erasure, *, sessions: async_sessionmaker[AsyncSession],
                     blobs: BlobStore) -> dict[str, int]:
    """Redact the person's tickets, then delete the files only they sent (after the commit: a rollback must
    leave no row naming a file that is gone)."""
    async with sessions() as session, session.begin():
        counts, blob_keys = await erasure_redaction.redact(session, erasure)
    counts["blobs"] = await erasure_redaction.delete_blobs(blobs, blob_keys)
    return counts
