"""Missed and abandoned phone calls: nobody spoke to the caller, so someone must call them back.

The telephony channel marks such a contact with ``contact.call.call_back``; whether it opened a ticket or
joined the caller's open one, a call-back activity is scheduled on that ticket, owned by the assignee (else
the team), due when the first answer is due, so the caller shows up in somebody's list and is not forgotten.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ContactRouted

from .activities import ActivityKind, schedule

#: When the ticket has no first-answer deadline (a follow-up on an old ticket), call back within this.
DEFAULT_CALL_BACK_WITHIN = timedelta(hours=1)


async def schedule_call_back(session: AsyncSession, ticket: Mapping[str, Any], event: ContactRouted,
                             now: datetime) -> bool:
    """Schedule the call-back a missed call asks for; False when the contact asks for none."""
    call = event.contact.call
    if call is None or not call.call_back:
        return False
    number = call.caller or event.contact.sender.phone or "a hidden number"
    when = call.started_at.strftime("%Y-%m-%d %H:%M UTC")
    title = f"Call back {number}: {call.outcome.value} call at {when}"
    if call.queue:
        title += f" (queue {call.queue})"
    owner = ticket.get("assignee") or event.routing.assignee or event.routing.team
    due = ticket.get("first_response_due_at")
    if due is None or due < now:
        due = now + DEFAULT_CALL_BACK_WITHIN
    await schedule(session, ticket, kind=ActivityKind.CALL_BACK, title=title[:500], owner=owner, due_at=due,
                   actor="tickets", now=now)
    return True
