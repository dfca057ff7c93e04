"""The events that announce a ticket: a new one, built from the contact that opened it, and one an agent moved
to another assignee or team. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from priyom_contracts import ContactRouted, TicketAssigned, TicketCreated, TicketStatus


def ticket_created(event: ContactRouted, number: str) -> TicketCreated:
    """The event announcing a new ticket; it shares the contact's correlation id, channel and key."""
    routing = event.routing
    return TicketCreated(
        correlation_id=event.correlation_id, channel=event.channel, idempotency_key=event.idempotency_key,
        number=number, contact_id=event.contact.contact_id, client_id=event.client.client_id,
        first_contact=event.client.first_contact, type=routing.type, urgency=routing.urgency,
        status=TicketStatus.NEW, team=routing.team, assignee=routing.assignee,
        first_response_due_at=routing.first_response_due_at, resolution_due_at=routing.resolution_due_at)


def ticket_assigned(ticket: Mapping[str, Any], history_id: int, *, team: str, assignee: str | None,
                    by: str) -> TicketAssigned:
    """An agent's move of ``ticket`` (the row before it), keyed by its history line: one event per move."""
    return TicketAssigned(
        correlation_id=ticket["contact_id"], channel=ticket["channel"],
        idempotency_key=f"{ticket['number']}:{history_id}", number=ticket["number"], team=team, assignee=assignee,
        old_assignee=ticket["assignee"], assigned_by=by[:500])
