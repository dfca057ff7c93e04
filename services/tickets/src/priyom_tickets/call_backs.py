"""Missed and abandoned phone calls: nobody spoke to the caller, so someone must call them back.

The telephony channel marks such a contact with ``contact.call.call_back``; whether it opened a ticket or
joined the caller's open one, a call-back activity is scheduled on that ticket, owned by the assignee (else
the team), due when the first answer is due, so the caller shows up in somebody's list and is not forgotten.
Pure: :func:`priyom_tickets.changes.file_call` schedules what :func:`call_back_for` plans.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from priyom_contracts import ContactRouted

#: When the ticket has no first-answer deadline (a follow-up on an old ticket), call back within this.
DEFAULT_CALL_BACK_WITHIN = timedelta(hours=1)


@dataclass(frozen=True)
class CallBack:
    title: str
    owner: str
    due_at: datetime


def call_back_for(ticket: Mapping[str, Any], event: ContactRouted, now: datetime) -> CallBack | None:
    """The call-back a missed call asks for; None when the contact asks for none."""
    call = event.contact.call
    if call is None or not call.call_back:
        return None
    number = call.caller or event.contact.sender.phone or "a hidden number"
    when = call.started_at.strftime("%Y-%m-%d %H:%M UTC")
    title = f"Call back {number}: {call.outcome.value} call at {when}"
    if call.queue:
        title += f" (queue {call.queue})"
    owner = ticket.get("assignee") or event.routing.assignee or event.routing.team
    due = ticket.get("first_response_due_at")
    if due is None or due < now:
        due = now + DEFAULT_CALL_BACK_WITHIN
    return CallBack(title[:500], owner, due)
