"""``/api/v1/clients/{client_id}/identifiers/{identifier_id}/{confirm|reject}``: an agent's word on a claim.

A claim is an identifier an unauthenticated channel put on the card (the web form, a mail's ``From``, the JSON
webhook); it identifies no caller and fills no pop-up until confirmed here or proven by a channel (claims.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from priyom_contracts import ClientCard, ClientChange
from priyom_kit import Principal
from priyom_kit.db import Database

from ..card_changes import CardChanges
from ..identifier_claims import AlreadyVerified, NoSuchIdentifier, Review, review_claim
from .clients import card_or_404
from .roles import CLAIM_REVIEWERS


def identifier_claims_router(database: Database, changes: CardChanges) -> APIRouter:
    """Confirm or reject an unverified identifier of a card (agents and supervisors)."""
    router = APIRouter(prefix="/api/v1/clients", tags=["clients"])

    @router.post("/{client_id}/identifiers/{identifier_id}/{review}", response_model=ClientCard,
                 summary="Confirm a claimed identifier (it then identifies callers) or reject it (it is removed)",
                 responses={404: {"description": "No such identifier on this card"},
                            409: {"description": "Rejecting an identifier that is verified, not a claim"}})
    async def review(client_id: uuid.UUID, identifier_id: uuid.UUID, review: Review,
                     principal: Annotated[Principal, Depends(CLAIM_REVIEWERS)]) -> ClientCard:
        try:
            async with database.sessions() as session, session.begin():
                await review_claim(session, client_id, identifier_id, review, actor=principal.name)
        except NoSuchIdentifier as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        except AlreadyVerified as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        await changes.committed(ClientChange.EDITED, [client_id])
        return await card_or_404(database, client_id)

    return router
