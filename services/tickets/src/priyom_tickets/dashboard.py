"""The supervisor's live picture: what waits in each team, what is late, how today's SLA went, who works on how
much, the calls ringing now and today's answered and missed, and the last 24 hours hour by hour.

Every figure is one grouped query over ``tickets`` (indexed on status, team, assignee, the deadlines and
``updated_at``), so the page stays cheap on a large desk; the console redraws it when the live feed says a ticket
changed. "Today" starts at midnight in the desk's time zone (``TICKETS_TIMEZONE``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import call_log, store
from .tables import tickets

HOURS = 24


def start_of_day(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)


def _hour(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.to_char(func.date_trunc("hour", func.timezone("UTC", column)), 'YYYY-MM-DD"T"HH24')
    return func.strftime("%Y-%m-%dT%H", column)


async def picture(session: AsyncSession, now: datetime, zone: ZoneInfo, online: set[str],
                  calls_now: dict[str, int]) -> dict[str, Any]:
    """The dashboard's figures as of ``now``; ``online``: the staff with a live console open; ``calls_now``: the
    calls ringing and being talked on (:class:`~priyom_tickets.call_board.CallBoard`)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    working = tickets.c.status.not_in(store.DONE)
    teams = await session.execute(
        select(tickets.c.team, func.count().label("open"),
               func.sum(case((tickets.c.assignee.is_(None), 1), else_=0)).label("waiting"),
               func.sum(case((store.overdue(now), 1), else_=0)).label("overdue"))
        .where(working).group_by(tickets.c.team).order_by(tickets.c.team))
    load = dict((await session.execute(
        select(tickets.c.assignee, func.count()).where(working, tickets.c.assignee.is_not(None))
        .group_by(tickets.c.assignee))).all())
    today = start_of_day(now, zone)
    answered = tickets.c.first_responded_at >= today
    resolved = tickets.c.resolved_at >= today
    sla = (await session.execute(select(
        func.sum(case((answered, 1), else_=0)),
        func.sum(case((answered & (tickets.c.first_responded_at <= tickets.c.first_response_due_at), 1), else_=0)),
        func.sum(case((resolved, 1), else_=0)),
        func.sum(case((resolved & (tickets.c.resolved_at <= tickets.c.resolution_due_at), 1), else_=0)),
    ).where(answered | resolved))).one()
    since = now - timedelta(hours=HOURS)
    per_hour = {}
    for column in (tickets.c.created_at, tickets.c.resolved_at):
        bucket = _hour(column, dialect).label("hour")  # grouped by its label: one expression, as PostgreSQL wants
        per_hour[column.name] = dict((await session.execute(
            select(bucket, func.count()).where(column >= since).group_by(bucket))).all())
    created, closed = per_hour["created_at"], per_hour["resolved_at"]
    hours = [(now - timedelta(hours=n)).strftime("%Y-%m-%dT%H") for n in range(HOURS - 1, -1, -1)]
    return {
        "at": now.isoformat(),
        "teams": [{"team": r.team, "open": r.open, "waiting": int(r.waiting or 0), "overdue": int(r.overdue or 0)}
                  for r in teams],
        "today": {"first_responses": int(sla[0] or 0), "first_responses_in_time": int(sla[1] or 0),
                  "resolved": int(sla[2] or 0), "resolved_in_time": int(sla[3] or 0)},
        "calls": calls_now | await call_log.inbound_since(session, today),
        "agents": [{"name": name, "open": load.get(name, 0), "online": name in online}
                   for name in sorted(set(load) | online)],
        "hours": [{"hour": f"{h}:00Z", "created": created.get(h, 0), "resolved": closed.get(h, 0)} for h in hours],
    }
