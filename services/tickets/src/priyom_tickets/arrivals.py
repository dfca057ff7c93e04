"""A routed contact arrives: which change of :mod:`.changes` it makes, exactly once.

A contact can arrive twice: a redelivery after a crash, a retry after a failed publish, or two deliveries
racing on two consumers. The kit's inbox answers the sequential cases (it keeps each arrival's outcome); the
UNIQUE constraints on ``contact_id`` and ``(channel, idempotency_key)`` answer the race, and the loser re-reads
what the winner committed. Either way a repeated contact that had opened a ticket stages the same
``TicketCreated`` (same ``message_id``) again, so a subscriber that missed it gets it and one that saw it can
drop it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import ContactRouted, TicketCreated, utcnow
from priyom_kit import TransientError, get_logger
from priyom_kit.batches import Within
from priyom_kit.db import Inbox, InboxBatch
from priyom_kit.outbox import staged_together

from . import arrival_locks, card_reach, changes, store
from .followups import closed_ticket_answered_by, open_ticket_continued_by, ticket_of_automated
from .policy import QUIET, Policy
from .satisfaction import parse_rating

log = get_logger("priyom.tickets.arrivals")

_INBOX_KEY_MAX = 512


def inbox_key(channel: str, idempotency_key: str) -> str:
    """The inbox key of an arrival: the channel's own key, scoped by channel so channels cannot collide.

    The kit's inbox column holds 512 characters, as does the key alone; a key that no longer fits once
    prefixed is replaced by its digest, which identifies it just as well.
    """
    key = f"{channel}:{idempotency_key}"
    if len(key) <= _INBOX_KEY_MAX:
        return key
    return f"{channel}:sha256:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"


@dataclass(frozen=True)
class Appended:
    """The outcome of a contact that continued an open ticket instead of opening one."""

    number: str
    contact_id: str


@dataclass(frozen=True)
class Ignored:
    """A machine-written contact that answered no ticket, as versions before the machine-mail collector
    recorded it (they dropped it); still read back from the inbox for a redelivery of such a contact."""

    contact_id: str
    automated: str


Registered = TicketCreated | Appended | Ignored


def _outcome(recorded: Mapping[str, Any]) -> Registered:
    if "ignored" in recorded:
        return Ignored(recorded["contact_id"], recorded["ignored"])
    if "appended_to" in recorded:
        return Appended(recorded["appended_to"], recorded["contact_id"])
    return TicketCreated.model_validate(recorded)


def _appended(number: str, event: ContactRouted) -> tuple[Registered, dict[str, Any]]:
    contact_id = str(event.contact.contact_id)
    return Appended(number, contact_id), {"appended_to": number, "contact_id": contact_id}


async def register_contact(
    sessions: async_sessionmaker[AsyncSession], inbox: Inbox, event: ContactRouted, policy: Policy = QUIET,
) -> tuple[Registered, bool]:
    """Make the contact a ticket, or a message on the ticket it continues, exactly once.

    Returns the outcome and whether it is new. Nothing is published here: what the change staged goes out
    when the caller flushes the outbox after this returns, that is, after the commit.
    """
    async with sessions() as session:
        try:
            await arrival_locks.lock_arrivals(session, [inbox_key(event.channel, event.idempotency_key)])
            registered = await _register_in(session, inbox, event, policy)
            await session.commit()
            return registered
        except (IntegrityError, _LostRace):
            await session.rollback()
        # A concurrent delivery of the same arrival committed first: announce what it recorded.
        return await _repeat(session, await _already_registered(session, inbox, event)), False


async def register_contacts(
    sessions: async_sessionmaker[AsyncSession], inbox: Inbox, events: Sequence[ContactRouted], policy: Policy = QUIET,
    within: Within | None = None,
) -> list[tuple[Registered, bool]]:
    """:func:`register_contact` for a batch (:class:`priyom_kit.batches.Batches`), in one transaction: each
    arrival under its own lock, in turn and in its delivery's context (``within``), so a contact sees the
    ticket an earlier one of the batch opened; the cards' address copies its notices need read once
    (:func:`card_reach.read_together`). A race raises (the batch rolls back, and each contact is
    registered alone, where the race is answered)."""
    within = within or Within.here()
    keys = [inbox_key(event.channel, event.idempotency_key) for event in events]
    async with sessions() as session:
        await arrival_locks.lock_arrivals(session, keys)
        recorded = await inbox.batch(session, keys)
        async with staged_together(session), card_reach.read_together(session, (e.client.client_id for e in events)):
            outcomes = [await within(index, _register_in(session, recorded, event, policy))
                        for index, event in enumerate(events)]
        await recorded.write(session)
        await session.commit()
    return outcomes


async def _register_in(session: AsyncSession, inbox: Inbox | InboxBatch, event: ContactRouted,
                       policy: Policy) -> tuple[Registered, bool]:
    """Inside the caller's transaction, under the arrival's lock (:mod:`.arrival_locks`, taken by the caller):
    the recorded outcome (its ticket announced again), or the change made and recorded; raises
    :class:`_LostRace` when another delivery recorded it."""
    key = inbox_key(event.channel, event.idempotency_key)
    recorded = await inbox.recall(session, key)
    if recorded is not None:
        return await _announce_again(session, _outcome(recorded)), False
    outcome, record = await _change(session, event, policy, utcnow())
    if not await inbox.record(session, key, record):
        raise _LostRace(key)
    return outcome, True


async def _change(session: AsyncSession, event: ContactRouted, policy: Policy,
                  now: datetime) -> tuple[Registered, dict[str, Any]]:
    """The change the contact makes, and the outcome the inbox keeps for its repeats."""
    if event.contact.automated is not None:
        ticket = await ticket_of_automated(session, event)
        if ticket is None:  # kept on the day's machine-mail ticket: it opens none (see machine_mail.py)
            filed = await changes.file_unanswered_automated(session, event, policy=policy, now=now)
            return _appended(filed["number"], event)
        await changes.file_automated(session, ticket, event, now)
        return _appended(ticket["number"], event)
    ongoing = await open_ticket_continued_by(session, event)
    if ongoing is not None:
        await changes.append_followup(session, ongoing, event, policy=policy, now=now)
        return _appended(ongoing["number"], event)
    rated = await _survey_answer(session, event, policy, now)
    if rated is not None:
        return _appended(rated, event)
    _, created = await changes.register(session, event, policy=policy, now=now)
    return created, created.model_dump(mode="json")


async def _survey_answer(session: AsyncSession, event: ContactRouted, policy: Policy,
                         now: datetime) -> str | None:
    """A rating answering the closing survey of a recently closed ticket: kept on that ticket, with the
    message; the ticket's number, or None when the contact is no such answer."""
    answer = parse_rating(event.contact.body)
    if answer is None:
        return None
    closed = await closed_ticket_answered_by(session, event, closed_after=now - policy.survey_window)
    if closed is None or not await changes.answer_survey(session, closed, event, *answer, policy=policy,
                                                                 now=now):
        return None
    return closed["number"]


async def _repeat(session: AsyncSession, outcome: Registered) -> Registered:
    """A repeated arrival: a ticket it opened is announced again (through the outbox, like the first time)."""
    await _announce_again(session, outcome)
    await session.commit()
    return outcome


async def _announce_again(session: AsyncSession, outcome: Registered) -> Registered:
    """Stage the announcement of a ticket a repeated arrival opened, in the caller's transaction."""
    if isinstance(outcome, TicketCreated):
        await changes.announce_again(session, outcome, utcnow())
    return outcome


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
    return TicketCreated.model_validate({
        "correlation_id": row["contact_id"], **{k: row[k] for k in (
            "channel", "idempotency_key", "number", "contact_id", "client_id", "first_contact", "type",
            "urgency", "status", "team", "assignee", "first_response_due_at", "resolution_due_at")}})
