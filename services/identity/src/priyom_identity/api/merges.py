"""``/api/v1/clients/{client_id}/merge`` and ``…/merges/{source_id}/undo``: one card taken into another, keeping
every identifier and all history, and given back out again. Both are audited under the caller's name."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from priyom_contracts import CardMerge, ClientCard, ClientChange
from priyom_kit import Principal
from priyom_kit.db import Database

from .. import store
from ..card_changes import CardChanges
from ..cards import MergeRequest
from ..merging import CardGone, MergeRefused, NothingToUndo, merge_cards, undo_merge
from .roles import WRITERS


def merges_router(database: Database, changes: CardChanges) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["client base"])

    @router.post("/clients/{client_id}/merge", response_model=ClientCard,
                 summary="Merge another card into this one, keeping every identifier and all history",
                 responses={404: {"description": "No such card"}, 422: {"description": "Same card twice"}})
    async def merge(client_id: uuid.UUID, body: MergeRequest,
                    principal: Annotated[Principal, Depends(WRITERS)]) -> ClientCard:
        try:
            async with database.sessions() as session, session.begin():
                await merge_cards(session, target=client_id, source=body.source_id, actor=principal.name,
                                  reason="merged by a person")
        except MergeRefused as exc:
            code = status.HTTP_422_UNPROCESSABLE_CONTENT if body.source_id == client_id else 404
            raise HTTPException(code, str(exc)) from None
        await changes.committed(ClientChange.MERGED, [client_id, body.source_id],
                                merges=[CardMerge(source_id=body.source_id, target_id=client_id)])
        async with database.sessions() as session:
            card = await store.load_card(session, client_id)
        assert card is not None
        return card

    @router.post("/clients/{client_id}/merges/{source_id}/undo", response_model=ClientCard,
                 summary="Undo a merge: the merged card comes back with its persons, identifiers and history",
                 responses={404: {"description": "No such merge to undo"},
                            409: {"description": "The card was merged on or deleted since; undo that first"}})
    async def undo(client_id: uuid.UUID, source_id: uuid.UUID,
                   principal: Annotated[Principal, Depends(WRITERS)]) -> ClientCard:
        try:
            async with database.sessions() as session, session.begin():
                await undo_merge(session, target=client_id, source=source_id, actor=principal.name)
        except NothingToUndo as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        except CardGone as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        await changes.committed(ClientChange.UNMERGED, [client_id, source_id],
                                merges=[CardMerge(source_id=source_id, target_id=client_id)])
        async with database.sessions() as session:
            card = await store.load_card(session, source_id)
        assert card is not None
        return card

    return router
