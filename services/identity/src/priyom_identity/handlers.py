"""One function per consumed message type; the decisions are in :mod:`.matching` and :mod:`.identify`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import (
    AutomatedKind,
    CardMerge,
    ClientChange,
    ClientChanged,
    ClientLookupReply,
    ContactIdentified,
    ContactReceived,
    DeliveryReported,
    DeliveryStatus,
    ErasureReported,
    TicketCreated,
)
from priyom_kit import Bus, TransientError, get_logger
from priyom_kit.batches import Within
from priyom_kit.db import Inbox, InboxBatch

from . import erasure_reports
from .card_changes import CardChanges
from .erasure_outbox import request_by_id
from .identify import identify_contact, senders_read_together
from .lookup.client_lookup import ClientLookup, request_id_of
from .mail_replies import record_sent
from .merging import CardGone
from .policy import MatchPolicy
from .ticket_numbers import note_tickets
from .undeliverable import clear_undeliverable, flag_undeliverable, flagged_among, normalised_or_none

log = get_logger("priyom.identity")

#: Each retry re-reads who owns what; a third clash in a row means something else is wrong.
RACE_ATTEMPTS = 3


class _InboxRaced(Exception):
    """A concurrent delivery of the same message recorded its outcome first."""


async def on_contact_received(event: ContactReceived, *, sessions: async_sessionmaker[AsyncSession],
                              inbox: Inbox, bus: Bus, policy: MatchPolicy,
                              changes: CardChanges | None = None) -> ContactIdentified:
    """Identify the sender and publish ``ContactIdentified`` once the match is committed.

    The match, its writes and the inbox record share one transaction, and the publish comes after the
    commit: a crash in between leaves the outcome in the inbox, and the redelivery publishes it again
    (same ``message_id``), so downstream sees one identification however often this runs.
    """
    identified = await identify_recorded(event, sessions=sessions, inbox=inbox, policy=policy, changes=changes)
    if event.contact.automated is AutomatedKind.BOUNCE and event.contact.undeliverable:
        await note_bounce(event, sessions=sessions, policy=policy, changes=changes)
    await bus.publish(identified)
    return identified


async def on_contacts_received(events: Sequence[ContactReceived], within: Within | None = None, *,
                               sessions: async_sessionmaker[AsyncSession], inbox: Inbox, bus: Bus,
                               policy: MatchPolicy, changes: CardChanges | None = None,
                               ) -> list[ContactIdentified | Exception]:
    """:func:`on_contact_received` for a batch (:class:`priyom_kit.batches.Batches`): every match in one
    transaction, each in its delivery's context (``within``), then the publishes confirmed together. A clash
    raises (the batch rolls back, and each contact is identified alone, with :func:`identify_recorded`'s
    retries); a publish that fails is that contact's failure only: its delivery is retried, and finds its
    outcome in the inbox."""
    within = within or Within.here()
    outcomes: list[tuple[ContactIdentified, set[UUID], list[CardMerge]]] = []
    async with sessions() as session, session.begin():
        recorded = await inbox.batch(session, (event.idempotency_key for event in events))
        async with senders_read_together(session, (event.contact for event in events), policy):
            for index, event in enumerate(events):
                changed: set[UUID] = set()
                merges: list[CardMerge] = []
                identified = await within(index, _identify_in(session, event, recorded, policy, changed, merges))
                outcomes.append((identified, changed, merges))
        await recorded.write(session)
    for index, (event, (_, changed, merges)) in enumerate(zip(events, outcomes, strict=True)):
        if changes is not None and changed:
            await within(index, changes.committed(ClientChange.IDENTIFIED, changed, channel=event.channel,
                                                  merges=merges))
        if event.contact.automated is AutomatedKind.BOUNCE and event.contact.undeliverable:
            await within(index, note_bounce(event, sessions=sessions, policy=policy, changes=changes))
    sent = await asyncio.gather(*(within(index, bus.publish(identified))
                                  for index, (identified, _, _) in enumerate(outcomes)), return_exceptions=True)
    for result in sent:
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            raise result
    return [result if isinstance(result, Exception) else identified
            for result, (identified, _, _) in zip(sent, outcomes, strict=True)]


def log_identified(event: ContactReceived, identified: ContactIdentified) -> None:
    """One line per identified contact, in the delivery's own context (its correlation id): ids and the match,
    never who the sender is."""
    log.info("contact identified", contact_id=str(event.contact.contact_id), channel=event.channel,
             client_id=str(identified.client.client_id), match=identified.client.match.value,
             first_contact=identified.client.first_contact,
             possible_duplicates=len(identified.client.possible_duplicates))


async def identify_recorded(event: ContactReceived, *, sessions: async_sessionmaker[AsyncSession],
                            inbox: Inbox, policy: MatchPolicy,
                            changes: CardChanges | None = None) -> ContactIdentified:
    """The outcome recorded for this idempotency key, or a new one committed together with the match.

    Safe to run concurrently: a clash on an identifier or on the inbox key rolls back and reads again.
    Cards the identification changed are announced through ``changes`` once the transaction has committed.
    """
    for _ in range(RACE_ATTEMPTS):
        changed: set[UUID] = set()
        merges: list[CardMerge] = []
        try:
            async with sessions() as session, session.begin():
                identified = await _identify_in(session, event, inbox, policy, changed, merges)
            if changes is not None:
                await changes.committed(ClientChange.IDENTIFIED, changed, channel=event.channel, merges=merges)
            return identified
        except (IntegrityError, CardGone, _InboxRaced):
            # Another contact claimed one of these identifiers (or this very message) first: read again.
            log.info("identification raced, retrying", contact_id=str(event.contact.contact_id))
    raise TransientError(f"identifiers kept changing under {RACE_ATTEMPTS} attempts; retry later")


async def _identify_in(session: AsyncSession, event: ContactReceived, inbox: Inbox | InboxBatch, policy: MatchPolicy,
                       changed: set[UUID], merges: list[CardMerge]) -> ContactIdentified:
    """Inside the caller's transaction: the outcome recorded for the key, or the match made and recorded
    (raises :class:`_InboxRaced` when a concurrent delivery recorded it first)."""
    recorded = await inbox.recall(session, event.idempotency_key)
    if recorded is not None:
        return ContactIdentified.model_validate(recorded)
    client = await identify_contact(session, event.contact, event.channel, policy, changed, merges)
    identified = ContactIdentified(
        correlation_id=event.correlation_id, channel=event.channel,
        idempotency_key=event.idempotency_key, contact=event.contact, client=client,
    )
    if not await inbox.record(session, event.idempotency_key, identified.model_dump(mode="json")):
        raise _InboxRaced
    return identified


async def on_lookup_request(body: bytes, *, lookup: ClientLookup) -> bytes:
    """Answer one telephony lookup as it came off the wire; the reply's JSON, for the request's ``reply_to``.

    Never raises: a lookup that cannot be answered is a ``found = False`` reply with the reason, because
    the caller is a ringing phone and a timeout is the worst answer.
    """
    try:
        reply = await lookup.answer_json(body)
    except Exception as exc:  # noqa: BLE001 - the database is down: say so rather than let the phone wait
        log.warning("lookup failed", error=type(exc).__name__)
        try:
            request_id = request_id_of(json.loads(body))
        except ValueError:
            request_id = request_id_of(None)
        reply = ClientLookupReply(request_id=request_id, found=False, error="lookup unavailable, try again")
    return reply.model_dump_json().encode()


async def note_bounce(event: ContactReceived, *, sessions: async_sessionmaker[AsyncSession], policy: MatchPolicy,
                      changes: CardChanges | None = None) -> None:
    """A bounce came back as mail: flag the addresses it names. Idempotent (a flag keeps its first report)."""
    async with sessions() as session, session.begin():
        flagged = await flag_undeliverable(session, [str(e) for e in event.contact.undeliverable],
                                           reason="a bounce came back", at=event.contact.received_at,
                                           rules=policy.email)
    if changes is not None:
        await changes.committed(ClientChange.FLAGGED, flagged, channel=event.channel)


async def on_delivery_reported(event: DeliveryReported, *, sessions: async_sessionmaker[AsyncSession],
                               policy: MatchPolicy, changes: CardChanges | None = None) -> None:
    """The email channel's result for a reply: a final failure flags the address, a delivery clears it and
    remembers the Message-ID, whose answer proves the address.

    Idempotent by nature, so no inbox: a redelivered report finds the flag already as it leaves it.
    """
    await on_deliveries_reported([event], sessions=sessions, policy=policy, changes=changes)


async def on_deliveries_reported(events: Sequence[DeliveryReported], within: Within | None = None, *,
                                 sessions: async_sessionmaker[AsyncSession], policy: MatchPolicy,
                                 changes: CardChanges | None = None) -> list[None]:
    """:func:`on_delivery_reported` for a batch (:class:`priyom_kit.batches.Batches`), in one transaction: a
    burst of tickets sends a burst of notices, whose reports come back together."""
    within = within or Within.here()
    async with sessions() as session, session.begin():
        changed = await _deliveries_in(session, events, policy, within)
    for index, (event, cards) in enumerate(zip(events, changed, strict=True)):
        await within(index, _delivery_changed(event, cards, changes))
    return [None] * len(events)


async def _deliveries_in(session: AsyncSession, events: Sequence[DeliveryReported], policy: MatchPolicy,
                         within: Within) -> list[set[UUID] | None]:
    """A batch's reports inside the caller's transaction: for each, the cards whose answer changed (None: the
    report says nothing about the address).

    A failure flags its address, and is rare: a batch holding one goes report by report, in order. A delivery,
    the usual report, clears a flag only where one is set, and its Message-ID is remembered: the addresses the
    batch's deliveries name that carry a flag are read in one statement and only those cleared (each in turn,
    since a flag reported after the delivery stays), and the Message-IDs are remembered in one statement (each
    report had cost three statements of its own). An address nothing on file can be is not remembered: no
    answer from it can prove a claim.
    """
    if any(event.status is DeliveryStatus.FAILED for event in events):
        return [await within(index, _delivery_in(session, event, policy)) for index, event in enumerate(events)]
    told = [event.recipient_email is not None and event.status is not DeliveryStatus.RETRYING for event in events]
    # Each address as it is kept on file, once (None: nothing on file can be it).
    addresses = [normalised_or_none(str(event.recipient_email), policy.email) if says else None
                 for event, says in zip(events, told, strict=True)]
    flagged = await flagged_among(session, {address for address in addresses if address is not None})
    changed: list[set[UUID] | None] = []
    for index, (event, says, address) in enumerate(zip(events, told, addresses, strict=True)):
        if not says:
            changed.append(None)
        elif address in flagged:
            changed.append(await within(index, clear_undeliverable(
                session, str(event.recipient_email), delivered_at=event.occurred_at, rules=policy.email)))
        else:
            changed.append(set())
    # Its answer, quoting this Message-ID, will prove the address (mail_replies.py).
    await record_sent(session, [(event.external_message_id, address, event.occurred_at)
                                for event, address in zip(events, addresses, strict=True)
                                if address is not None and event.external_message_id])
    return changed


async def _delivery_in(session: AsyncSession, event: DeliveryReported, policy: MatchPolicy) -> set[UUID] | None:
    """The report's flag set or cleared inside the caller's transaction: the cards whose answer changed, or
    None for a report that says nothing about the address."""
    if event.recipient_email is None or event.status is DeliveryStatus.RETRYING:
        return None
    if event.status is DeliveryStatus.FAILED:
        return await flag_undeliverable(session, [str(event.recipient_email)], reason=event.detail,
                                        at=event.occurred_at, rules=policy.email)
    changed = await clear_undeliverable(session, str(event.recipient_email), delivered_at=event.occurred_at,
                                        rules=policy.email)
    address = normalised_or_none(str(event.recipient_email), policy.email)
    if event.external_message_id and address is not None:
        # Its answer, quoting this Message-ID, will prove the address (mail_replies.py).
        await record_sent(session, [(event.external_message_id, address, event.occurred_at)])
    return changed


async def _delivery_changed(event: DeliveryReported, changed: set[UUID] | None, changes: CardChanges | None) -> None:
    """After the commit: the cards' cached lookups are stale."""
    if changed is None:
        return
    if changed:
        log.info("email deliverability changed", status=event.status.value, cards=len(changed),
                 reply_id=str(event.reply_id))
    if changes is not None:
        await changes.committed(ClientChange.FLAGGED, changed, channel=event.channel)


def on_client_changed(event: ClientChanged, *, changes: CardChanges) -> None:
    """A card changed (in this process or another): its cached lookups are stale."""
    changes.heard(event)


async def on_ticket_created(event: TicketCreated, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Put the ticket number on the contact's history entry, so an agent sees which ticket each contact became.

    Idempotent by nature (the same number written again), so no inbox. A contact identity never saw (one
    registered elsewhere) is simply not in the history: nothing to note, not an error.
    """
    await on_tickets_created([event], sessions=sessions)


async def on_tickets_created(events: Sequence[TicketCreated], within: Within | None = None, *,
                             sessions: async_sessionmaker[AsyncSession]) -> list[None]:
    """:func:`on_ticket_created` for a batch (:class:`priyom_kit.batches.Batches`), in one transaction."""
    within = within or Within.here()
    async with sessions() as session, session.begin():
        noted = await note_tickets(session, [(event.contact_id, event.number) for event in events])
    for index, event in enumerate(events):
        if event.contact_id not in noted:
            await within(index, _not_in_history(event))
    return [None] * len(events)


async def _not_in_history(event: TicketCreated) -> None:
    log.info("ticket for a contact not in the history", contact_id=str(event.contact_id))


async def on_erasure_reported(event: ErasureReported, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    """A service redacted what it held for an erasure: keep its counts as part of the erasure's report."""
    async with sessions() as session, session.begin():
        await erasure_reports.record(session, event, await request_by_id(session, event.erasure_id))
    log.info("erasure reported", erasure_id=str(event.erasure_id), service=event.service)
