"""Telephony: call progress for caller pop-ups, and the fast client lookup that drives them."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from .base import Contract, EmailStr, Event
from .contacts import ClientMatch, MessengerId, ShortText


class CallState(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    MISSED = "missed"
    ENDED = "ended"


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallEvent(Event):
    """A call changed state, published as ``call.event.v1.phone`` for caller pop-ups.

    ``call_id`` is the AMI ``Linkedid`` (or the CTI webhook's call id), so a queue call or a transfer stays one
    call; ``idempotency_key`` is the PBX id, ``call_id`` and ``state`` (plus ``agent`` for ringing, which may
    reach several agents in turn). ``agent`` is the extension the call rings at, so a pop-up reaches that
    agent's console only. ``client`` is identity's card for ``caller`` when one matched (looked up while the
    phone rings), else ``None``: an unknown number still pops up, as a new caller.
    """

    event_type = "call.event"

    call_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    state: CallState
    caller: Annotated[str, StringConstraints(max_length=64)] = Field(
        description="E.164 when the number parses, else the raw number the PBX sent (an internal extension)"
    )
    caller_name: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="The CallerIDName the PBX sent, exactly"
    )
    called: Annotated[str, StringConstraints(max_length=64)] | None = None
    agent: ShortText | None = Field(default=None, description="The extension that rings, answered or missed")
    direction: CallDirection = CallDirection.INBOUND
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
