"""What goes back to a customer, on the channel they used."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from .base import Contract, EmailStr, Event, TicketNumber
from .contacts import AttachmentRef, MessengerId


class Recipient(Contract):
    """Where the channel adapter delivers: the address the customer wrote from."""

    email: EmailStr | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    messenger: MessengerId | None = None
    external_thread_id: Annotated[str, StringConstraints(max_length=512)] | None = None


class OutboundReply(Event):
    """An agent's reply or a status notice to deliver (``reply.outbound.v1.<channel>``).

    The channel adapter of ``channel`` consumes it; ``idempotency_key`` is the reply's own id, so a
    redelivered reply is sent to the customer once.
    """

    event_type = "reply.outbound"

    ticket_number: TicketNumber
    reply_id: uuid.UUID
    recipient: Recipient
    subject: Annotated[str, StringConstraints(max_length=998)] | None = None
    body: Annotated[str, StringConstraints(max_length=100_000)]
    in_reply_to: Annotated[str, StringConstraints(max_length=998)] | None = None
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=50)
    survey: bool = Field(
        default=False, description="The closing survey: a channel with buttons offers the ratings 1 to 5; "
        "a press arrives as the customer's message of that number, naming the ticket")
    references: list[Annotated[str, StringConstraints(max_length=998)]] = Field(
        default_factory=list, description="Earlier message ids of the conversation (email References)")
    automatic: bool = Field(
        default=False, description="An automatic notice, not an agent's reply: marked Auto-Submitted so "
        "the customer's auto-responder does not answer it")


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"  # final: the channel refused (blocked bot, bounced address); the ticket shows why
    RETRYING = "retrying"  # a transient failure; the adapter tries again with backoff


class DeliveryReported(Event):
    """A channel adapter's result for one :class:`OutboundReply` (``reply.reported.v1.<channel>``).

    ``idempotency_key`` is ``<reply_id>:<status>``, so a re-sent report changes the ticket once.
    """

    event_type = "reply.reported"

    ticket_number: TicketNumber
    reply_id: uuid.UUID
    status: DeliveryStatus
    detail: Annotated[str, StringConstraints(max_length=2000)] | None = None
    external_message_id: Annotated[str, StringConstraints(max_length=998)] | None = Field(
        default=None, description="The channel's id of what was sent (Message-ID, Telegram message_id)"
    )
    recipient_email: EmailStr | None = Field(
        default=None, description="The address an email reply went to; with a failed status, identity flags "
        "it on the client card as undeliverable")
