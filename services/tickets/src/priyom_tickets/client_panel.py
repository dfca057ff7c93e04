"""``GET /api/v1/tickets/{number}/client``: identity's card of the ticket's client, for the agent console.

Whoever may view the ticket may view its client's card (the same 404 as the ticket for everyone else, so
numbers reveal nothing); tickets fetches the card from identity with its own token (:mod:`.agent_card`).
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from priyom_kit import Principal, Role, require_roles
from priyom_kit.db import Database

from . import store
from .access import AccessPolicy, staff_of
from .agent_card import ClientPanel, IdentityCards

Number = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{6,9}$", max_length=14)]


def make_router(database: Database, access: AccessPolicy, cards: IdentityCards) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    Staff = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR))]

    @router.get("/tickets/{number}/client", tags=["tickets"],
                summary="The client card from identity (persons, contacts, contracts); available=false "
                        "when identity cannot give it now",
                responses={404: {"description": "No ticket has this number (or the caller may not see it)"}})
    async def ticket_client(number: Number, who: Staff) -> ClientPanel:
        async with database.sessions() as session:
            ticket = await store.get_ticket(session, number)
        if ticket is None or not access.may_view(staff_of(who), ticket):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ticket number {number}")
        # The session is closed before identity is asked: a slow identity holds no database connection.
        return await cards.panel(ticket["client_id"])

    return router
