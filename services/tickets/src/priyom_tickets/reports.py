"""Reports for the team head and the director: tickets by client, agent, status, type, channel or team over a
period, with how many are late, how fast they were answered and resolved, and how customers rated them.

Computed in the database (one grouped query), so a report over a million tickets moves a few rows, not the
tickets. Times are wall-clock minutes from registration; CSV is rendered from the same rows as JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import store
from .tables import ticket_ratings, tickets


class GroupBy(StrEnum):
    CLIENT = "client"
    ASSIGNEE = "assignee"
    STATUS = "status"
    TYPE = "type"
    CHANNEL = "channel"
    TEAM = "team"


_COLUMNS = {GroupBy.CLIENT: tickets.c.client_id, GroupBy.ASSIGNEE: tickets.c.assignee,
            GroupBy.STATUS: tickets.c.status, GroupBy.TYPE: tickets.c.type, GroupBy.CHANNEL: tickets.c.channel,
            GroupBy.TEAM: tickets.c.team}

FIELDS = ("group", "tickets", "open", "overdue", "avg_first_response_min", "avg_resolution_min", "rated",
          "avg_rating")


@dataclass(frozen=True)
class Period:
    """Registered in ``[start, end)``; either bound may be open."""

    start: datetime | None = None
    end: datetime | None = None


def _minutes(later: Any, earlier: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 60.0
    return (func.julianday(later) - func.julianday(earlier)) * 1440.0


async def ticket_report(session: AsyncSession, group_by: GroupBy, period: Period, now: datetime
                        ) -> list[dict[str, Any]]:
    """One row per group, biggest first."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    key = _COLUMNS[group_by]
    query = (
        select(
            key.label("group"),
            func.count().label("tickets"),
            func.sum(case((tickets.c.status.not_in(store.DONE), 1), else_=0)).label("open"),
            func.sum(case((store.overdue(now), 1), else_=0)).label("overdue"),
            func.avg(_minutes(tickets.c.first_responded_at, tickets.c.created_at, dialect))
            .label("avg_first_response_min"),
            func.avg(_minutes(tickets.c.resolved_at, tickets.c.created_at, dialect)).label("avg_resolution_min"),
            func.count(ticket_ratings.c.rating).label("rated"),
            func.avg(ticket_ratings.c.rating).label("avg_rating"),
        )
        .select_from(tickets.outerjoin(ticket_ratings, ticket_ratings.c.ticket_seq == tickets.c.seq))
        .group_by(key)
        .order_by(func.count().desc(), key)
    )
    if period.start is not None:
        query = query.where(tickets.c.created_at >= period.start)
    if period.end is not None:
        query = query.where(tickets.c.created_at < period.end)
    rows = (await session.execute(query)).mappings().all()
    return [_shape(row) for row in rows]


def _shape(row: Any) -> dict[str, Any]:
    def rounded(value: Any) -> float | None:
        return None if value is None else round(float(value), 1)

    return {"group": None if row["group"] is None else str(row["group"]), "tickets": int(row["tickets"]),
            "open": int(row["open"] or 0), "overdue": int(row["overdue"] or 0),
            "avg_first_response_min": rounded(row["avg_first_response_min"]),
            "avg_resolution_min": rounded(row["avg_resolution_min"]),
            "rated": int(row["rated"]), "avg_rating": rounded(row["avg_rating"])}


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The report as CSV (comma-separated, header first, empty cells for no value)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return out.getvalue()
