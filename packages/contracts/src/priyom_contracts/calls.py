"""Telephony: call progress for caller pop-ups, and the fast client lookup that drives them."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from .base import Contract, Event
from .contacts import ClientMatch, MessengerId, ShortText


class CallState(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    MISSED = "missed"
    ENDED = "ended"


class CallEvent(Event):
    """A call changed state (``call.<state>.v1.telephony`` is carried as ``call.event.v1.<channel>``).

    ``idempotency_key`` is the PBX id plus the AMI ``Linkedid``; ``agent`` is the device or queue member
    the call rings at, so a pop-up reaches that agent only.
    """

    event_type = "call.event"

    call_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    state: CallState
    caller: Annotated[str, StringConstraints(max_length=64)]
    called: Annotated[str, StringConstraints(max_length=64)] | None = None
    agent: ShortText | None = None
    client: ClientMatch | None = None


class ClientLookupRequest(Contract):
    """Request half of the bus request/reply lookup (identity answers on the reply-to queue)."""

    request_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    email: EmailStr | None = None
    messenger: MessengerId | None = None


class ClientLookupReply(Contract):
    """Reply half: the card when one matched, else ``found = False``."""

    request_id: uuid.UUID
    found: bool
    client_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    display_name: ShortText | None = None
    account_manager: ShortText | None = None
    sla_tier: ShortText | None = None
    organisation: ShortText | None = Field(default=None, description="The organisation, for a company's card")
    error: ShortText | None = Field(
        default=None, description="Why nothing could be looked up (an unparseable number, a bad request)"
    )
