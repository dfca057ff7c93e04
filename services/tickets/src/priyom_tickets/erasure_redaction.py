"""Redacting a person's tickets on an erasure request (``person.erased`` / ``client.erased``).

What names the person goes: what they wrote (subjects, bodies, senders, threads, attachments and the original
mail, deleted from the blob store), the card's name on a private person's tickets, the addresses tickets
would answer at, call-back titles (they carry the number), rating comments, agents' free-text decisions and
internal notes (an agent writes the customer's name and number in them as readily as anywhere), the events that left through the outbox, and the dead letters of their contacts. What stays: every row, number,
type, status, team, time and count, so reports and SLA statistics add up as before.

The ticket rows change here, not through :mod:`.changes`: an erasure is no change of a ticket's course (no
history line, no event, no notice), and the history it would write would itself have to be erased. Running
it again finds the same rows and sets the same values: a repeat (or a redelivery) is harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, delete, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ClientErased, Erasure, PersonRecords
from priyom_kit.blobs import BlobStore

from .tables import (
    card_reach,
    dead_letters,
    ticket_activities,
    ticket_attachments,
    ticket_history,
    ticket_messages,
    ticket_notes,
    ticket_outbox,
    ticket_ratings,
    tickets,
)

#: What erased text reads as.
ERASED = "[erased]"
#: History details that are facts, not words of the customer: kept; every other key of a line goes.
FACT_KEYS = frozenset({"channel", "contact_id", "kind", "collects", "router_resolution_due_at", "type", "old_type",
                       "new_type", "reply_id", "status", "team", "assignee", "decision", "escalation", "rating",
                       "withheld", "sender_authenticated", "verdict"})
#: References matched per statement.
CHUNK = 200


def any_in(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    if not values:
        return false()
    return or_(*(column.in_(values[i:i + CHUNK]) for i in range(0, len(values), CHUNK)))


async def tickets_of(session: AsyncSession, person: PersonRecords) -> list[int]:
    """The seqs of the tickets that concern the person: their contacts', their numbers, the person's, and on a
    private person's card every ticket of the card."""
    scope = [any_in(tickets.c.contact_id, person.contact_ids), any_in(tickets.c.number, person.ticket_numbers)]
    if person.person_id is not None:
        scope.append(tickets.c.person_id == person.person_id)
    if person.whole_card:
        scope.append(tickets.c.client_id == person.client_id)
    return list((await session.execute(select(tickets.c.seq).where(or_(*scope)))).scalars())


def records_of(erasure: Erasure) -> PersonRecords:
    return PersonRecords(client_id=erasure.client_id, person_id=erasure.person_id,
                         whole_card=isinstance(erasure, ClientErased), contact_ids=erasure.contact_ids,
                         ticket_numbers=erasure.ticket_numbers)


def messages_of(seqs: list[int], contact_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    """The messages on those tickets, and the person's contacts threaded onto other tickets."""
    return or_(any_in(ticket_messages.c.ticket_seq, seqs), any_in(ticket_messages.c.contact_id, contact_ids))


async def redact(session: AsyncSession, erasure: Erasure) -> tuple[dict[str, int], list[str]]:
    """Redact in the caller's transaction; returns the counts per table and the blob keys no longer needed
    by any message, for the caller to delete once the transaction has committed."""
    seqs = await tickets_of(session, records_of(erasure))
    message_ids = list((await session.execute(select(ticket_messages.c.id).where(
        messages_of(seqs, erasure.contact_ids)))).scalars())
    counts: dict[str, int] = {}

    async def run(name: str, statement: Any) -> None:
        counts[f"tickets.{name}"] = counts.get(f"tickets.{name}", 0) + ((await session.execute(statement)).rowcount
                                                                         or 0)

    values: dict[str, Any] = {"subject": None, "reach": None, "type_fields": None}
    if isinstance(erasure, ClientErased):
        values["client_name"] = ERASED
    await session.execute(update(tickets).where(any_in(tickets.c.seq, seqs)).values(**values))
    for column in ("decision_text", "result"):
        await session.execute(update(tickets).where(any_in(tickets.c.seq, seqs), tickets.c[column].is_not(None))
                              .values({column: ERASED}))
    counts["tickets.tickets"] = len(seqs)
    await run("ticket_messages", update(ticket_messages).where(any_in(ticket_messages.c.id, message_ids)).values(
        sender=None, thread=None, subject=None, body=ERASED, thread_key=None, delivery_detail=None,
        external_message_id=None))
    await session.execute(update(ticket_messages).where(any_in(ticket_messages.c.id, message_ids),
                                                        ticket_messages.c.direction == "inbound")
                          .values(author_name=None))
    blob_keys = await _attachments(session, message_ids, counts)
    await run("ticket_activities", update(ticket_activities).where(any_in(ticket_activities.c.ticket_seq, seqs))
              .values(title=ERASED))
    await run("ticket_notes", update(ticket_notes).where(any_in(ticket_notes.c.ticket_seq, seqs)).values(body=ERASED))
    await run("ticket_ratings", update(ticket_ratings).where(any_in(ticket_ratings.c.ticket_seq, seqs),
                                                             ticket_ratings.c.comment.is_not(None))
              .values(comment=None))
    counts["tickets.ticket_history"] = await _history(session, seqs)
    counts["tickets.ticket_outbox"] = await _outbox(session, erasure, seqs)
    await run("dead_letters", update(dead_letters).where(any_in(dead_letters.c.correlation_id,
                                                                 [str(c) for c in erasure.contact_ids]))
              .values(body=b"", preview=ERASED, reason=ERASED, headers={}, handled_note=None))
    # The copy of the card's addresses (card_reach.py) may hold the person's: identity's next word refills it.
    await run("card_reach", delete(card_reach).where(card_reach.c.client_id == erasure.client_id))
    return counts, blob_keys


async def _attachments(session: AsyncSession, message_ids: list[uuid.UUID], counts: dict[str, int]) -> list[str]:
    """Rename the person's attachments and list the blobs only they used (the store is content-addressed: the
    same file sent by someone else stays)."""
    mine = any_in(ticket_attachments.c.message_id, message_ids)
    keys = set((await session.execute(select(ticket_attachments.c.blob_key).where(mine))).scalars())
    counts["tickets.ticket_attachments"] = (await session.execute(
        update(ticket_attachments).where(mine).values(filename=ERASED))).rowcount or 0
    shared = set((await session.execute(select(ticket_attachments.c.blob_key).where(
        any_in(ticket_attachments.c.blob_key, sorted(keys)), ~mine))).scalars())
    return sorted(keys - shared)


async def _history(session: AsyncSession, seqs: list[int]) -> int:
    rows = (await session.execute(select(ticket_history.c.id, ticket_history.c.details).where(
        any_in(ticket_history.c.ticket_seq, seqs), ticket_history.c.details.is_not(None)))).all()
    changed = 0
    for row in rows:
        kept = {k: v for k, v in (row.details or {}).items() if k in FACT_KEYS}
        if kept != row.details:
            await session.execute(update(ticket_history).where(ticket_history.c.id == row.id).values(details=kept))
            changed += 1
    return changed


async def _outbox(session: AsyncSession, erasure: Erasure, seqs: list[int]) -> int:
    """Events already sent that carried the person's words or addresses (replies, notices, type corrections):
    found by their ticket number or contact id in the payload. Unsent ones are left to be sent first."""
    numbers = list((await session.execute(select(tickets.c.number).where(any_in(tickets.c.seq, seqs)))).scalars())
    text = cast(ticket_outbox.c.payload, Text)
    needles = [f'%"{n}"%' for n in numbers] + [f'%"{c}"%' for c in erasure.contact_ids]
    changed = 0
    for start in range(0, len(needles), CHUNK):
        matches = or_(*(text.like(needle) for needle in needles[start:start + CHUNK]))
        rows = (await session.execute(select(ticket_outbox.c.id, ticket_outbox.c.payload).where(
            matches, ticket_outbox.c.published_at.is_not(None)))).all()
        for row in rows:
            if row.payload.get("erased"):
                continue
            await session.execute(update(ticket_outbox).where(ticket_outbox.c.id == row.id)
                                  .values(payload={"erased": True, "ticket_number": row.payload.get("ticket_number")
                                                   or row.payload.get("number")}))
            changed += 1
    return changed


async def delete_blobs(blobs: BlobStore, keys: list[str]) -> int:
    """Delete the blobs after the commit (a rollback must not lose a file a kept row still names)."""
    deleted = 0
    for key in keys:
        deleted += await blobs.delete(key)
    return deleted
