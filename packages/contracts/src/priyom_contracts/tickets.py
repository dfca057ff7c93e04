"""Ticket lifecycle events: what the tickets service tells the rest of the system."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import Field

from .base import Event, UtcDatetime
from .contacts import ContactType, ShortText, Urgency


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketCreated(Event):
    """A contact became a new ticket (``ticket.created.v1.<channel>``)."""

    event_type = "ticket.created"

    number: int = Field(gt=0)
    contact_id: uuid.UUID
    client_id: uuid.UUID
    first_contact: bool
    type: ContactType
    urgency: Urgency
    status: TicketStatus
    team: ShortText
    assignee: ShortText | None = None
    first_response_due_at: UtcDatetime
    resolution_due_at: UtcDatetime


class TicketStatusChanged(Event):
    """A ticket moved through its lifecycle (``ticket.status-changed.v1.<channel>``)."""

    event_type = "ticket.status-changed"

    number: int = Field(gt=0)
    old_status: TicketStatus
    new_status: TicketStatus
    changed_by: ShortText
