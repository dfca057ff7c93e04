"""Satisfaction ratings of closed tickets: recorded by an agent (given on the phone, say), or by the customer
through the public contact link the web form returned (its key is the capability: public_gate.py). The
other public route tells that customer which ticket their contact became."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import TicketStatus, utcnow

from .. import changes, store
from ..views import PublicTicket, RatingRequest, RatingView
from .deps import ActedTicket, Session, Staff
from .public_gate import CustomerContact, LookedUpContact

router = APIRouter(prefix="/api/v1")

#: The public routes, which a customer's browser calls from the web form's page (CORS, in app.py).
PUBLIC_PREFIX = "/api/v1/contacts/"


async def _record_rating(session: AsyncSession, ticket: RowMapping, body: RatingRequest, channel: str,
                         actor: str) -> RatingView:
    if ticket["status"] != TicketStatus.CLOSED:
        raise HTTPException(status.HTTP_409_CONFLICT, "only a closed ticket is rated")
    if not await changes.rate(session, ticket, body.rating, body.comment, channel=channel, actor=actor,
                              now=utcnow()):
        raise HTTPException(status.HTTP_409_CONFLICT, "this ticket is already rated")
    await session.commit()
    return RatingView.model_validate(dict(await store.rating_of(session, ticket["seq"]) or {}))


@router.post("/tickets/{number}/satisfaction", tags=["tickets"], status_code=status.HTTP_201_CREATED,
             summary="Record the customer's 1–5 rating of a closed ticket (given by phone, say)",
             responses={404: {"description": "No ticket has this number"},
                        409: {"description": "Not closed yet, or already rated"}})
async def rate_ticket(body: RatingRequest, ticket: ActedTicket, who: Staff, session: Session) -> RatingView:
    return await _record_rating(session, ticket, body, body.channel or "telephony", who.name)


@router.get("/contacts/{contact_id}/ticket", tags=["public"],
            summary="The ticket a contact became (public: the link's key, or a staff token, opens it)",
            responses={404: {"description": "No ticket yet (the contact is on its way), or a key that does not "
                                            "open this contact"},
                       429: {"description": "Too many requests from this address: wait Retry-After seconds"}})
async def ticket_of_contact(contact_id: LookedUpContact, session: Session, response: Response) -> PublicTicket:
    row = await store.ticket_of_contact(session, contact_id)
    response.headers["Cache-Control"] = "no-store"
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no ticket for this contact yet",
                            headers={"Cache-Control": "no-store"})
    return PublicTicket.model_validate(dict(row))


@router.post("/contacts/{contact_id}/satisfaction", tags=["public"], status_code=status.HTTP_201_CREATED,
             summary="The customer rates their closed ticket (public: the link's key opens it)",
             responses={404: {"description": "No ticket for this contact, or a key that does not open it"},
                        409: {"description": "Not closed yet, or already rated"},
                        429: {"description": "Too many requests from this address: wait Retry-After seconds"}})
async def customer_rates(contact_id: CustomerContact, body: RatingRequest, session: Session) -> RatingView:
    row = await store.ticket_of_contact(session, contact_id)
    ticket = await store.get_ticket(session, row["number"], for_update=True) if row else None
    if ticket is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no ticket for this contact")
    return await _record_rating(session, ticket, body, "web", "customer")
