"""``GET /api/v1/tickets/{number}/client``: identity's card of the ticket's client, for the agent console.

Whoever may view the ticket may view its client's card (the same 404 as the ticket for everyone else, so
numbers reveal nothing); tickets fetches the card from identity with its own token
(:mod:`priyom_tickets.agent_card`).
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from fastapi import APIRouter

from ..agent_card import ClientPanel
from .deps import Number, Parts, Staff, ticket_or_404

router = APIRouter(prefix="/api/v1", tags=["tickets"])


@router.get("/tickets/{number}/client",
            summary="The client card from identity (persons, contacts, contracts); available=false when "
                    "identity cannot give it now",
            responses={404: {"description": "No ticket has this number (or the caller may not see it)"}})
async def ticket_client(number: Number, who: Staff, parts: Parts) -> ClientPanel:
    async with parts.database.sessions() as session:
        ticket = await ticket_or_404(session, parts, number, who)
    # The session is closed before identity is asked: a slow identity holds no database connection.
    return await parts.cards.panel(ticket["client_id"])
