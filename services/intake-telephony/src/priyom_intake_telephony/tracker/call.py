"""A call as far as it got, and the progress reported about it: what the rest of the service reads. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Call:
    """One call as far as it got."""

    call_id: str
    started_at: datetime
    origin: str | None = None  # Uniqueid of the channel that started the call
    origin_channel: str | None = None
    caller: str | None = None
    caller_name: str | None = None
    called: str | None = None
    outbound: bool = False  # an extension called out through a trunk (or an Originate did)
    internal: bool = False  # an extension called an extension
    originated: bool = False  # started by an AMI Originate (click-to-call)
    originator: str | None = None  # the extension an Originate rang first
    queue: str | None = None
    abandoned: bool = False
    ringing: set[str] = field(default_factory=set)
    rings: dict[str, int] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    recording: str | None = None
    billed_s: int | None = None
    channels: set[str] = field(default_factory=set)
    bridges: dict[str, set[str]] = field(default_factory=dict)
    # What an agent said of the call while it went on (call_ticket.py): the ticket it is about, or that its
    # ticket was opened at once; its contact at hangup then joins that ticket.
    ticket_number: str | None = None
    opened_early: bool = False

    @property
    def agent(self) -> str | None:
        """The extension that had the call last (the transfer target, after a transfer)."""
        return self.agents[-1] if self.agents else self.originator

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def outcome(self) -> str:
        if self.answered:
            return "answered"
        return "abandoned" if self.abandoned else "missed"

    @property
    def duration_s(self) -> int:
        """Talk time from answer to hangup (the CDR's billed seconds when Asterisk sent one)."""
        if self.billed_s is not None:
            return self.billed_s
        if self.answered_at is None or self.ended_at is None:
            return 0
        return max(0, int((self.ended_at - self.answered_at).total_seconds()))


@dataclass(frozen=True)
class Ringing:
    call: Call
    agent: str
    attempt: int


@dataclass(frozen=True)
class Answered:
    call: Call
    agent: str


@dataclass(frozen=True)
class Finished:
    call: Call


@dataclass(frozen=True)
class Started:
    """An inbound call reached the PBX: nothing rings yet, but the caller's card can be fetched already."""

    call: Call


Progress = Started | Ringing | Answered | Finished
