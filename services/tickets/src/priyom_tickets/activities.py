"""Activities: what someone must do about a ticket by a time (call back, meet, prepare a document, carry out a
task of a complaint's action plan). Each shows on its ticket and in its owner's list; scheduling, moving,
handing over and finishing one leaves a line in the ticket's history.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from . import store
from .store import ticket_activities, tickets


class ActivityKind(StrEnum):
    CALL_BACK = "call_back"
    MEETING = "meeting"
    DOCUMENT = "document"
    TASK = "task"


async def schedule(session: AsyncSession, ticket: Mapping[str, Any], *, kind: ActivityKind, title: str,
                   owner: str, due_at: datetime, actor: str, now: datetime) -> uuid.UUID:
    activity_id = uuid.uuid4()
    await session.execute(ticket_activities.insert().values(
        id=activity_id, ticket_seq=ticket["seq"], kind=kind.value, title=title, owner=owner, due_at=due_at,
        created_by=actor, created_at=now, updated_at=now))
    await store.add_history(session, ticket["seq"], at=now, actor=actor, action="activity_scheduled",
                            details={"activity": str(activity_id), "kind": kind.value, "title": title,
                                     "owner": owner, "due_at": due_at.isoformat()})
    return activity_id


async def change(session: AsyncSession, activity: Mapping[str, Any], *, due_at: datetime | None,
                 owner: str | None, done: bool | None, actor: str, now: datetime) -> None:
    """Reschedule, hand over, finish or reopen; only what is given changes, and each change is in history."""
    values: dict[str, Any] = {}
    if due_at is not None and due_at != activity["due_at"]:
        values["due_at"] = due_at
    if owner is not None and owner != activity["owner"]:
        values["owner"] = owner
    if done is not None and done != (activity["done_at"] is not None):
        values["done_at"] = now if done else None
    if not values:
        return
    await session.execute(ticket_activities.update().where(ticket_activities.c.id == activity["id"])
                          .values(**values, updated_at=now))
    action = ("activity_done" if values.get("done_at") else "activity_reopened") if "done_at" in values \
        else "activity_rescheduled"
    details = {"activity": str(activity["id"]), "title": activity["title"]}
    details |= {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items() if v is not None}
    await store.add_history(session, activity["ticket_seq"], at=now, actor=actor, action=action, details=details)


async def of_ticket(session: AsyncSession, seq: int) -> list[RowMapping]:
    result = await session.execute(select(ticket_activities).where(ticket_activities.c.ticket_seq == seq)
                                   .order_by(ticket_activities.c.due_at, ticket_activities.c.id))
    return list(result.mappings())


async def get(session: AsyncSession, activity_id: uuid.UUID) -> RowMapping | None:
    result = await session.execute(select(ticket_activities, tickets.c.number)
                                   .join(tickets, tickets.c.seq == ticket_activities.c.ticket_seq)
                                   .where(ticket_activities.c.id == activity_id).with_for_update())
    return result.mappings().first()


async def of_owner(session: AsyncSession, owner: str, *, done: bool | None, due_before: datetime | None,
                   limit: int) -> list[RowMapping]:
    """An owner's list, soonest first, with the ticket number each belongs to."""
    query = (select(ticket_activities, tickets.c.number)
             .join(tickets, tickets.c.seq == ticket_activities.c.ticket_seq)
             .where(ticket_activities.c.owner == owner))
    if done is not None:
        query = query.where(ticket_activities.c.done_at.is_not(None) if done
                            else ticket_activities.c.done_at.is_(None))
    if due_before is not None:
        query = query.where(ticket_activities.c.due_at < due_before)
    result = await session.execute(query.order_by(ticket_activities.c.due_at, ticket_activities.c.id)
                                   .limit(limit))
    return list(result.mappings())
