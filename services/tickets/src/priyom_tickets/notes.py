"""Agents' internal notes on a ticket, and the mentions that bring a colleague to it.

A note is for staff only: it lives in its own table, apart from the thread's messages that the customer's
surfaces (the public status link, the rating page, notices) and the outbound replies read, so no customer-facing
code can show or send one by mistake. It changes nothing in the ticket's course (no status, no deadline, no
event on the bus), which is why it is written here and not through :mod:`.changes`; the note itself, with its
author and time, is the record.

An ``@name`` of a staff account in the text is a mention: one ``staff_mentions`` row per mentioned colleague,
listed in their console until they mark it seen (:mod:`.mentions` decides which names the text names).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from . import staff as accounts
from .mentions import mentioned
from .tables import staff_mentions, ticket_notes, tickets


@dataclass(frozen=True)
class Note:
    id: uuid.UUID
    author: str
    body: str
    mentions: list[str]
    created_at: datetime


async def add(session: AsyncSession, ticket: Mapping[str, Any], *, author: str, body: str, now: datetime) -> Note:
    """The note on ``ticket`` and a mention for each active colleague it @names (not the author)."""
    named = [n for n in mentioned(body, await accounts.active_names(session)) if n != author]
    note = Note(uuid.uuid4(), author, body, named, now)
    await session.execute(ticket_notes.insert().values(id=note.id, ticket_seq=ticket["seq"], author=author,
                                                       body=body, mentions=named, created_at=now))
    if named:
        await session.execute(staff_mentions.insert(), [
            {"id": uuid.uuid4(), "staff_name": name, "note_id": note.id, "created_at": now} for name in named])
    return note


async def of_ticket(session: AsyncSession, seq: int) -> list[RowMapping]:
    """A ticket's notes, oldest first (the console puts them into the thread by time)."""
    return list((await session.execute(select(ticket_notes).where(ticket_notes.c.ticket_seq == seq)
                                       .order_by(ticket_notes.c.created_at, ticket_notes.c.id))).mappings())


async def unseen(session: AsyncSession, name: str, limit: int = 100) -> list[RowMapping]:
    """The mentions of ``name`` not yet seen, newest first, with the note and its ticket's number."""
    query = (select(staff_mentions.c.id, staff_mentions.c.created_at, ticket_notes.c.author,
                    ticket_notes.c.body, tickets.c.number)
             .join(ticket_notes, ticket_notes.c.id == staff_mentions.c.note_id)
             .join(tickets, tickets.c.seq == ticket_notes.c.ticket_seq)
             .where(staff_mentions.c.staff_name == name, staff_mentions.c.seen_at.is_(None))
             .order_by(staff_mentions.c.created_at.desc()).limit(limit))
    return list((await session.execute(query)).mappings())


async def mark_seen(session: AsyncSession, name: str, mention_id: uuid.UUID, now: datetime) -> bool:
    """``name`` saw the mention; False when it is not theirs (or not there)."""
    result = await session.execute(update(staff_mentions).where(
        staff_mentions.c.id == mention_id, staff_mentions.c.staff_name == name).values(seen_at=now))
    return result.rowcount > 0
