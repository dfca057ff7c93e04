"""What goes back to a customer, on the channel they used."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from .base import Contract, Event
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

    ticket_number: int = Field(gt=0)
    reply_id: uuid.UUID
    recipient: Recipient
    subject: Annotated[str, StringConstraints(max_length=998)] | None = None
    body: Annotated[str, StringConstraints(max_length=100_000)]
    in_reply_to: Annotated[str, StringConstraints(max_length=998)] | None = None
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=50)
