"""An agent corrects the type the router gave a ticket, and the router learns from it.

The type decides three things on a ticket, so a correction redoes each of them in the caller's transaction:
the lifecycle (a status the new type's machine lacks becomes its nearest stage there,
``lifecycle.NEAREST_ON_RETYPE``), the SLA (deadlines are recomputed from the registration time as at
registration, when the tickets' own SLA policy covers the client's tier) and the type's own fields (those the
new type lacks are dropped, their values kept in a history line). The correction itself is a history line,
and ``ticket.type-corrected.v1`` with the first message's text is staged in the outbox, so the router keeps it
as a training example exactly when the change is committed. A status the mapping moved is announced as
``ticket.status-changed.v1`` too, so the router's view of the agent's load follows; the customer hears nothing
(a correction is internal). Pure: :func:`plan` decides, :func:`priyom_tickets.changes.correct_type` writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from priyom_contracts import ContactType, TicketStatus

from . import lifecycle, store, type_fields
from .lifecycle import IllegalTransition
from .policy import Policy

#: The most of the first message the router is sent to learn from (the contract's limit).
TRAINING_TEXT_CHARS = 4000


@dataclass(frozen=True)
class Correction:
    """The type the agent says the ticket is, perhaps a category, and why."""

    new_type: ContactType
    category: str | None = None
    note: str | None = None


def category_after(ticket: Mapping[str, Any], correction: Correction) -> str:
    """The agent's category if given; otherwise a category that only named the old type (what the router's
    classifier gives when no rule decided) follows the type, and any other category stays."""
    if correction.category:
        return correction.category
    if ticket["category"] == ticket["type"]:
        return correction.new_type.value
    return str(ticket["category"])


def deadlines_after(ticket: Mapping[str, Any], new_type: ContactType,
                    policy: Policy) -> tuple[datetime, datetime] | None:
    """The deadlines the new type gets, counted from registration as ``changes.register`` counts them; None
    when tickets' SLA policy does not cover the ticket (the router's deadlines then stay)."""
    if policy.sla is None or not ticket["sla_tier"]:
        return None
    return policy.sla.due(ticket["sla_tier"], new_type.value, ticket["created_at"])


def _late(status: str, first_responded_at: datetime | None, first_due: datetime, resolution_due: datetime,
          now: datetime) -> bool:
    """As ``store.overdue`` counts it, for one ticket."""
    if status in store.DONE:
        return False
    return resolution_due < now or (first_responded_at is None and first_due < now)


@dataclass(frozen=True)
class Retype:
    """What a correction does to the ticket: its new column values, the history details, the dropped fields."""

    old_type: ContactType
    new_type: ContactType
    old_status: TicketStatus
    new_status: TicketStatus
    values: dict[str, Any]
    details: dict[str, Any]
    dropped: dict[str, Any]


def plan(ticket: Mapping[str, Any], correction: Correction, *, policy: Policy, now: datetime) -> Retype:
    """The correction of ``ticket``; ``IllegalTransition`` when it is finished or already of that type."""
    old_type, status = ContactType(ticket["type"]), TicketStatus(ticket["status"])
    new_type = correction.new_type
    if status in lifecycle.FINAL:
        raise IllegalTransition(f"ticket {ticket['number']} is {status.value}: its type can no longer change")
    if new_type == old_type:
        raise IllegalTransition(f"ticket {ticket['number']} is already a {new_type.value}")
    new_status = lifecycle.status_after_retype(new_type, status)
    category = category_after(ticket, correction)
    kept, dropped = type_fields.carry_over(new_type, ticket["type_fields"] or {})
    values: dict[str, Any] = {"type": new_type.value, "category": category, "status": new_status.value,
                              "type_fields": kept or None, "updated_at": now}
    details: dict[str, Any] = {"from_type": old_type.value, "to_type": new_type.value}
    if category != ticket["category"]:
        details |= {"from_category": ticket["category"], "to_category": category}
    due = deadlines_after(ticket, new_type, policy)
    if due and due != (ticket["first_response_due_at"], ticket["resolution_due_at"]):
        values |= {"first_response_due_at": due[0], "resolution_due_at": due[1]}
        details["sla"] = {"first_response_due_at": due[0].isoformat(), "resolution_due_at": due[1].isoformat(),
                          "was": [ticket["first_response_due_at"].isoformat(),
                                  ticket["resolution_due_at"].isoformat()]}
        if ticket["overdue_at"] and not _late(new_status.value, ticket["first_responded_at"], *due, now):
            values["overdue_at"] = None  # no longer late: a later lateness is noticed (and escalated) afresh
    if correction.note:
        details["note"] = correction.note
    return Retype(old_type, new_type, status, new_status, values, details, dropped)
