"""What the HTTP API answers with: pydantic models built from store rows, documented in the OpenAPI schema.

The agent-facing views carry everything a console needs; the public view carries only what a customer who
holds the contact id may see (the number, the status, when it was registered).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from priyom_contracts import ContactType, TicketStatus, Urgency


class AttachmentView(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    blob_key: str = Field(description="sha256 of the content, its key in the blob store")


class MessageView(BaseModel):
    id: uuid.UUID
    contact_id: uuid.UUID | None
    direction: Literal["inbound", "outbound"]
    channel: str
    author_name: str | None
    subject: str | None
    body: str
    created_at: datetime
    attachments: list[AttachmentView] = Field(default_factory=list)


class TicketView(BaseModel):
    number: int = Field(description="The registration number customers quote")
    id: uuid.UUID
    contact_id: uuid.UUID = Field(description="The contact that opened the ticket")
    channel: str
    client_id: uuid.UUID
    person_id: uuid.UUID | None
    first_contact: bool
    type: ContactType
    category: str
    urgency: Urgency
    status: TicketStatus
    team: str
    assignee: str | None
    subject: str | None
    routing_reason: str = Field(description="Why the router chose this team and assignee")
    first_response_due_at: datetime
    resolution_due_at: datetime
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TicketView:
        return cls.model_validate(dict(row))


class TicketDetail(TicketView):
    messages: list[MessageView]

    @classmethod
    def assemble(
        cls, ticket: Mapping[str, Any], messages: Sequence[Mapping[str, Any]],
        attachments: Sequence[Mapping[str, Any]],
    ) -> TicketDetail:
        by_message: dict[uuid.UUID, list[AttachmentView]] = {}
        for row in attachments:
            by_message.setdefault(row["message_id"], []).append(AttachmentView.model_validate(dict(row)))
        views = [MessageView.model_validate({**m, "attachments": by_message.get(m["id"], [])})
                 for m in messages]
        return cls.model_validate({**ticket, "messages": views})


class TicketPage(BaseModel):
    items: list[TicketView]
    total: int = Field(description="Tickets matching the filters, on every page")
    limit: int
    offset: int


class PublicTicket(BaseModel):
    """All a customer learns from their contact id: the number to quote and where the ticket stands."""

    number: int
    status: TicketStatus
    created_at: datetime
