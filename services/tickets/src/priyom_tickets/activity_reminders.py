"""Activities remind their owner: a while before they are due, and again when they fall overdue.

A call-back promised for 15:00 is worth nothing if its owner remembers it at 15:40. Each tickets process, in
the live feed's round (:mod:`.live_feed`, once a second), reads the activities whose reminder moment passed
since its last round: ``due_at - remind_before`` (due soon) or ``due_at`` (overdue). It tells the owner's
consoles it holds; the console raises a desktop notification and marks the activity in the agent's list.

Nothing is written: a moment passes once, so every process tells its own consoles once, and a console opened
later shows the overdue activities in its list anyway (``GET /api/v1/activities``). An activity created less
than ``remind_before`` before it is due gets only the overdue reminder: its owner has just seen it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import ticket_activities, tickets

#: Most reminders one round reads; more are rare (a round covers a second) and caught at the owner's next look.
BATCH = 500


async def passed_between(session: AsyncSession, start: datetime, end: datetime, *,
                         before: timedelta) -> list[RowMapping]:
    """Open activities whose reminder moment (``before`` their due time, or the due time) is in
    ``(start, end]``, with their ticket's number."""
    due = ticket_activities.c.due_at
    query = (select(ticket_activities.c.id, ticket_activities.c.title, ticket_activities.c.owner, due,
                    tickets.c.number)
             .join(tickets, tickets.c.seq == ticket_activities.c.ticket_seq)
             .where(ticket_activities.c.done_at.is_(None),
                    or_(and_(due > start, due <= end), and_(due > start + before, due <= end + before)))
             .order_by(due).limit(BATCH))
    return list((await session.execute(query)).mappings())


def reminder(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """What the owner's console is told (``overdue``: the due time has passed)."""
    return {"type": "activity_reminder", "id": str(row["id"]), "number": row["number"], "title": row["title"],
            "due_at": row["due_at"].isoformat(), "overdue": row["due_at"] <= now}
