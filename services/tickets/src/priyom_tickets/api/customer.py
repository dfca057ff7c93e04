"""``/api/v1/customer/tickets``: a customer's requests as the portal shows them, for the portal only.

The portal signs the customer in (a one-time code to an identifier verified on their card) and asks here with
its service credential, naming the card (``client_id``) and, for a contact person who may not see the whole
organisation's requests, the person (``person_id``). A ticket of another card, or of another person, is a 404
like an unknown number, so numbers reveal nothing.

What is answered is the customer's view, built here from the rows and nothing else: their messages and our
replies and notices (never an internal note: notes live in their own table, which this module does not read),
messages no person wrote left out, status changes without who made them. The customer's acts (a reply, a
confirmation, a rating) do not come this way: the portal publishes them on the bus as the customer's messages.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from priyom_contracts import (
    CustomerAttachment,
    CustomerMessage,
    CustomerStatusChange,
    CustomerTicket,
    CustomerTicketList,
    CustomerTicketSummary,
    TicketStatus,
    utcnow,
)

from .. import store
from ..lifecycle import ON_CUSTOMER_VERDICT
from ..tables import tickets
from .deps import Internal, Number, Parts, Session

router = APIRouter(prefix="/api/v1/customer", tags=["customer"])

#: The newest requests a customer's list shows.
MAX_LISTED = 200


def _mine(client_id: uuid.UUID, person_id: uuid.UUID | None) -> list[Any]:
    clauses = [tickets.c.client_id == client_id]
    if person_id is not None:
        clauses.append(tickets.c.person_id == person_id)
    return clauses


def _summary(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("number", "status", "subject", "created_at", "updated_at", "person_id")}


def customer_messages(messages: Sequence[Mapping[str, Any]],
                      attachments: Sequence[Mapping[str, Any]]) -> list[CustomerMessage]:
    """The thread the customer sees: people's messages, ours with the agent's name, files by name only."""
    files: dict[uuid.UUID, list[CustomerAttachment]] = {}
    for a in attachments:
        files.setdefault(a["message_id"], []).append(CustomerAttachment(filename=a["filename"], size=a["size"]))
    return [CustomerMessage(direction=m["direction"], channel=m["channel"],
                            author=m["author_name"] if m["direction"] == "outbound" else None,
                            subject=m["subject"], body=m["body"], created_at=m["created_at"],
                            attachments=files.get(m["id"], []))
            for m in messages if m["automated"] is None]


def status_changes(history: Sequence[Mapping[str, Any]]) -> list[CustomerStatusChange]:
    return [CustomerStatusChange(at=h["at"], from_status=h["from_status"], to_status=h["to_status"])
            for h in history if h["to_status"] and h["to_status"] != h["from_status"]]


def rateable(ticket: Mapping[str, Any], rated: bool, survey_since: datetime) -> bool:
    """Closed within the survey window and not rated: a rating sent now would be taken (arrivals.py)."""
    closed_at = ticket["closed_at"]
    return (ticket["status"] == TicketStatus.CLOSED.value and not rated and closed_at is not None
            and closed_at >= survey_since)


@router.get("/tickets", summary="A customer's requests, newest first (the portal's service credential only)")
async def customer_tickets(_: Internal, session: Session, client_id: uuid.UUID,
                           person_id: uuid.UUID | None = None) -> CustomerTicketList:
    rows = (await session.execute(select(tickets).where(*_mine(client_id, person_id))
                                  .order_by(tickets.c.seq.desc()).limit(MAX_LISTED))).mappings()
    return CustomerTicketList(items=[CustomerTicketSummary.model_validate(_summary(r)) for r in rows])


@router.get("/tickets/{number}", summary="One of a customer's requests: its thread without internal notes, "
            "its status changes, and whether it waits for the customer's word or rating",
            responses={404: {"description": "No such ticket for this card (or this person)"}})
async def customer_ticket(number: Number, _: Internal, session: Session, parts: Parts, client_id: uuid.UUID,
                          person_id: uuid.UUID | None = None) -> CustomerTicket:
    ticket: RowMapping | None = (await session.execute(
        select(tickets).where(tickets.c.number == number, *_mine(client_id, person_id)))).mappings().first()
    if ticket is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ticket number {number}")
    messages = await store.messages_of(session, ticket["seq"])
    attachments = await store.attachments_of(session, [m["id"] for m in messages])
    rating = await store.rating_of(session, ticket["seq"])
    return CustomerTicket.model_validate({
        **_summary(ticket), "result": ticket["result"],
        "awaits_verdict": TicketStatus(ticket["status"]) in ON_CUSTOMER_VERDICT,
        "rateable": rateable(ticket, rating is not None, utcnow() - parts.policy.survey_window),
        "rating": rating["rating"] if rating else None,
        "messages": customer_messages(messages, attachments),
        "history": status_changes(await store.history_of(session, ticket["seq"])),
    })
