"""``/api/v1/persons/{person_id}/erase``: a person's personal data erased on request (152-FZ / GDPR), audited
under the caller's name; the statistics stay."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel

from priyom_contracts import ClientChange
from priyom_kit import Principal
from priyom_kit.db import Database

from ..card_changes import CardChanges
from ..erasure import NothingToErase, erase_person
from .roles import ERASERS


class ErasureDone(BaseModel):
    client_id: uuid.UUID
    person_id: uuid.UUID


def erasure_router(database: Database, changes: CardChanges) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["client base"])

    @router.post("/persons/{person_id}/erase", response_model=ErasureDone,
                 summary="Erase a person's personal data on request (152-FZ / GDPR); statistics stay",
                 responses={404: {"description": "No such person"}})
    async def erase(person_id: uuid.UUID, principal: Annotated[Principal, Depends(ERASERS)]) -> ErasureDone:
        try:
            async with database.sessions() as session, session.begin():
                client_id = await erase_person(session, person_id, actor=principal.name)
        except NothingToErase:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such person") from None
        await changes.committed(ClientChange.ERASED, [client_id])
        return ErasureDone(client_id=client_id, person_id=person_id)

    return router
