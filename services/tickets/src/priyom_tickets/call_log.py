"""The phone calls that became a ticket or a follow-up, and how each ended (``ticket_calls``).

The telephony channel publishes one contact per call, at hangup, with :class:`~priyom_contracts.CallDetails`;
the ticket's message keeps the caller and a summary, this log keeps the call's shape (direction, outcome,
agent, queue, times) as columns, so the supervisor's dashboard counts today's answered and missed calls with
one indexed query. It is written in the transaction that files the contact, so a call is counted once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import CallOutcome, ContactRouted

from .tables import ticket_calls

#: Outcomes counted as missed on the dashboard: nobody spoke to the caller.
MISSED = (CallOutcome.MISSED.value, CallOutcome.ABANDONED.value)


async def record(session: AsyncSession, ticket: Mapping[str, Any], event: ContactRouted) -> None:
    """Log the contact's call on ``ticket``; nothing for a contact that is no call."""
    call = event.contact.call
    if call is None:
        return
    await session.execute(ticket_calls.insert().values(
        ticket_seq=ticket["seq"], call_id=call.call_id, direction=call.direction, outcome=call.outcome.value,
        agent=call.agent, queue=call.queue, started_at=call.started_at, answered_at=call.answered_at,
        ended_at=call.ended_at, duration_s=call.duration_s))


async def inbound_since(session: AsyncSession, since: datetime) -> dict[str, int]:
    """Inbound calls started since ``since``: how many were answered and how many missed (or abandoned)."""
    started = (ticket_calls.c.started_at >= since) & (ticket_calls.c.direction == "inbound")
    answered, missed = (await session.execute(select(
        func.sum(case((ticket_calls.c.outcome == CallOutcome.ANSWERED.value, 1), else_=0)),
        func.sum(case((ticket_calls.c.outcome.in_(MISSED), 1), else_=0)),
    ).where(started))).one()
    return {"answered": int(answered or 0), "missed": int(missed or 0)}
