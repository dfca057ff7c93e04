"""What the changes of a ticket need to know about the deployment, read from settings once (app.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from .sla import SlaPolicy


@dataclass(frozen=True)
class Policy:
    """Where numbers are counted, which channels take notices, the SLA and who heads each team."""

    zone: ZoneInfo
    #: Channels a service delivers replies on; customers on other channels get no notices.
    outbound_channels: frozenset[str]
    #: Deadlines by business hours per SLA tier and type; None leaves the router's deadlines as they are.
    sla: SlaPolicy | None = None
    #: Who heads each team: an overdue ticket is escalated to them.
    team_heads: Mapping[str, str] = field(default_factory=dict)
    #: How long after closing a customer's "1".."5" on the same conversation is taken as the survey's answer.
    survey_window: timedelta = timedelta(days=14)
    #: Where a customer whose channel has no way back is answered, in order (see :mod:`.reply_paths`).
    reply_fallback: tuple[str, ...] = ("email", "telegram")
    #: How soon a call-back that carries an agent's reply to a phone-only customer is due.
    call_back_within: timedelta = timedelta(hours=2)
    #: Whether mail with no sender-authentication verdict may rate, close or reopen (see :mod:`.sender_trust`).
    trust_mail_without_verdict: bool = True


#: Without settings (tests of the registration alone): numbers in UTC years, no notices.
QUIET = Policy(zone=ZoneInfo("UTC"), outbound_channels=frozenset())
