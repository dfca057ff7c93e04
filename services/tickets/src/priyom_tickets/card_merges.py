"""Tickets follow their client's card when identity merges it into another, and go back when that is undone.

Identity deletes the merged-away card; a ticket still naming it would show an empty client panel, drop out of
the survivor's history on a pop-up and out of the client's reports. So every ticket of the source is
re-pointed at the target, with a history line each (who merged is identity's audit; the line says the card
changed under the ticket). Undoing the merge brings back exactly the tickets this merge moved, found by those
lines, as identity brings back exactly the rows it moved; tickets registered on the survivor since stay.

Like the erasure's redaction this writes the tables itself rather than through :mod:`.changes`: it changes
no ticket's course (no status, no event, no notice), only which card the ticket belongs to.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import CardMerge

from . import card_reach
from .tables import ticket_history, tickets

MERGED = "client_merged"
UNMERGED = "client_unmerged"
#: The actor of the history lines: identity made the change, tickets only follows.
ACTOR = "identity"


async def follow_merge(session: AsyncSession, merge: CardMerge, now: datetime) -> list[str]:
    """Move every ticket of ``merge.source_id`` to ``merge.target_id``; the numbers moved (none on a repeat)."""
    moved = await _repoint(session, merge.source_id, merge.target_id, None, MERGED, now)
    await card_reach.forget(session, merge.source_id)
    return moved


async def undo_merge(session: AsyncSession, merge: CardMerge, now: datetime) -> list[str]:
    """Move back the tickets ``merge`` moved that are still on its target; the numbers moved back."""
    lines = (await session.execute(
        select(ticket_history.c.ticket_seq, ticket_history.c.action, ticket_history.c.details)
        .join(tickets, tickets.c.seq == ticket_history.c.ticket_seq)
        .where(tickets.c.client_id == merge.target_id, ticket_history.c.action.in_([MERGED, UNMERGED]))
        .order_by(ticket_history.c.id))).all()
    # Replayed in order, merges push the card a ticket came from and undos pop it: the top is the card the
    # latest merge still in force took it from (a chain of merges undone in reverse unwinds one by one).
    came_from: dict[int, list[str]] = {}
    for seq, action, details in lines:
        stack = came_from.setdefault(seq, [])
        if action == MERGED:
            stack.append((details or {}).get("from", ""))
        elif stack:
            stack.pop()
    seqs = [seq for seq, stack in came_from.items() if stack and stack[-1] == str(merge.source_id)]
    return await _repoint(session, merge.target_id, merge.source_id, seqs, UNMERGED, now) if seqs else []


async def _repoint(session: AsyncSession, source: uuid.UUID, target: uuid.UUID, seqs: list[int] | None,
                   action: str, now: datetime) -> list[str]:
    """Tickets of ``source`` (only ``seqs`` of them, if given) now name ``target``, each with a history line."""
    where = [tickets.c.client_id == source] + ([tickets.c.seq.in_(seqs)] if seqs is not None else [])
    rows = (await session.execute(update(tickets).where(*where).values(client_id=target)
                                  .returning(tickets.c.seq, tickets.c.number))).all()
    for seq, _ in rows:
        await session.execute(ticket_history.insert().values(
            ticket_seq=seq, at=now, actor=ACTOR, action=action,
            details={"from": str(source), "to": str(target)}))
    return sorted(number for _, number in rows)
