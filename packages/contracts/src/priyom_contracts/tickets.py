"""Ticket lifecycle events: what the tickets service tells the rest of the system."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from .base import Event, TicketNumber, UtcDateTime
from .contacts import ContactType, ShortText, Urgency


class TicketStatus(StrEnum):
    """Where a ticket stands. Which moves are allowed depends on the ticket's type (the tickets service
    declares one state machine per type); ``open`` is "in progress" and ``pending`` "waiting for the customer".
    """

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    # A complaint's own path: review, then rejection or investigation, an action plan, the customer's word.
    REVIEW = "review"
    NEEDS_INFO = "needs_info"
    REJECTED = "rejected"
    INVESTIGATION = "investigation"
    ACTION_PLAN = "action_plan"
    AWAITING_CONFIRMATION = "awaiting_confirm"


class TicketCreated(Event):
    """A contact became a new ticket (``ticket.created.v1.<channel>``)."""

    event_type = "ticket.created"
    carries_personal_data: ClassVar[bool] = False

    number: TicketNumber
    contact_id: uuid.UUID
    client_id: uuid.UUID
    first_contact: bool
    type: ContactType
    urgency: Urgency
    status: TicketStatus
    team: ShortText
    assignee: ShortText | None = None
    first_response_due_at: UtcDateTime
    resolution_due_at: UtcDateTime


class TicketStatusChanged(Event):
    """A ticket moved through its lifecycle (``ticket.status-changed.v1.<channel>``)."""

    event_type = "ticket.status-changed"
    carries_personal_data: ClassVar[bool] = False

    number: TicketNumber
    old_status: TicketStatus
    new_status: TicketStatus
    changed_by: ShortText


class TicketAssigned(Event):
    """An agent took, handed over or transferred a ticket (``ticket.assigned.v1.<channel>``): the router moves
    the ticket's weight from ``old_assignee`` to ``assignee`` (None: back to ``team``'s queue), so its load
    counters stay right. ``idempotency_key`` is ``<number>:<history line>``. The router's own assignments
    (``contact.assigned``) are not announced again."""

    event_type = "ticket.assigned"
    carries_personal_data: ClassVar[bool] = False

    number: TicketNumber
    team: ShortText
    assignee: ShortText | None = Field(default=None, description="None: the ticket waits in the team's queue")
    old_assignee: ShortText | None = None
    assigned_by: ShortText


class TicketTypeCorrected(Event):
    """An agent corrected the type the router gave a ticket (``ticket.type-corrected.v1.<channel>``).

    It carries the text the agent judged (the ticket's first message, cut to 4,000 characters), so the router
    keeps it as a labelled example for the next training of its classifier without reading the tickets
    service's database."""

    event_type = "ticket.type-corrected"

    number: TicketNumber
    contact_id: uuid.UUID
    old_type: ContactType
    new_type: ContactType
    corrected_by: ShortText
    subject: ShortText | None = None
    text: str = Field(default="", max_length=4000, description="The first message's text, for training")
