"""The customers' portal: the sign-in code a channel delivers, and the customer's view of their tickets.

A customer signs in to the portal with a one-time code sent to an e-mail address or Telegram chat identity
holds as *verified* on their card. The portal does not send mail or call the Bot API itself: it publishes a
:class:`SignInCode` (``signin.code.v1.<channel>``) and the channel service that delivers replies on that
channel delivers the code, through the same relay or bot.

The portal reads tickets through tickets' customer routes (``/api/v1/customer/…``, the service role only),
which answer with the models below: the thread as the customer may see it (their messages and our replies and
notices, never an internal note), the status changes, and whether the ticket waits for the customer's word.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from .base import Contract, Event, TicketNumber, UtcDateTime
from .replies import Recipient
from .tickets import TicketStatus

#: The languages the portal's pages and its sign-in message are written in.
PortalLanguage = Literal["ru", "en"]


class SignInCode(Event):
    """A one-time sign-in code to deliver to a customer signing in to the portal (``signin.code.v1.<channel>``).

    The portal writes the message (in the customer's language, with the code and where to enter it); the
    channel only delivers it. ``idempotency_key`` is the sign-in attempt's id. The code is a secret for its few
    minutes of life: consumers never log the message, drop it past ``expires_at`` instead of sending a dead
    code, and report nothing back (the portal keeps only the code's hash). Never journaled
    (``carries_personal_data``).
    """

    event_type = "signin.code"
    carries_personal_data: ClassVar[bool] = True

    recipient: Recipient = Field(description="The verified address or chat on the customer's card")
    subject: Annotated[str, StringConstraints(max_length=200)]
    body: Annotated[str, StringConstraints(max_length=2000)]
    expires_at: UtcDateTime


class CustomerAttachment(Contract):
    """A file on a message of the customer's thread: its name and size (the content stays with tickets)."""

    filename: str
    size: int


class CustomerMessage(Contract):
    """One message of the thread as the customer sees it: no staff-only fields, no internal notes."""

    direction: Literal["inbound", "outbound"] = Field(description="inbound: the customer's; outbound: ours")
    channel: str
    author: str | None = Field(default=None, description="Outbound: the agent's name, or None for a notice")
    subject: str | None = None
    body: str
    created_at: datetime
    attachments: list[CustomerAttachment] = Field(default_factory=list)


class CustomerStatusChange(Contract):
    """A move of the ticket's status, as the customer's history shows it (who moved it is not shown)."""

    at: datetime
    from_status: TicketStatus | None
    to_status: TicketStatus


class CustomerTicketSummary(Contract):
    """One line of the customer's list of requests."""

    number: TicketNumber
    status: TicketStatus
    subject: str | None
    created_at: datetime
    updated_at: datetime
    person_id: uuid.UUID | None = Field(default=None, description="The contact person whose request it is, if known")


class CustomerTicketList(Contract):
    """The customer's requests, newest first (``GET /api/v1/customer/tickets``)."""

    items: list[CustomerTicketSummary]


class CustomerTicket(CustomerTicketSummary):
    """One request with its thread and history (``GET /api/v1/customer/tickets/{number}``)."""

    result: str | None = Field(default=None, description="The solution staff recorded, once resolved")
    awaits_verdict: bool = Field(
        description="Resolved (or an action plan proposed): the customer may confirm or decline")
    rateable: bool = Field(description="Closed, not yet rated, and within the survey window")
    rating: int | None = None
    messages: list[CustomerMessage]
    history: list[CustomerStatusChange]
