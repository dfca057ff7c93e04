"""``/api/v1/clients/{client_id}/duplicates``: cards and persons that look like one client entered twice.

A card is suggested when one contact carried identifiers of both cards (flagged in the audit when it
happened), or when its name is close to this card's; persons are compared by name within the card.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel
from sqlalchemy import select

from priyom_kit import Principal
from priyom_kit.db import Database

from .. import store
from ..duplicates import search_token, similar_pairs, similar_to
from ..tables import card_audit, clients
from .roles import READERS

#: Cards compared by name against one card, at most.
MAX_NAME_CANDIDATES = 500


class DuplicateCard(BaseModel):
    client_id: uuid.UUID
    name: str
    reason: str
    score: float


class DuplicatePersons(BaseModel):
    person_ids: tuple[uuid.UUID, uuid.UUID]
    score: float


class Duplicates(BaseModel):
    cards: list[DuplicateCard]
    persons: list[DuplicatePersons]


def duplicate_suggestions_router(database: Database) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["client base"])

    @router.get("/clients/{client_id}/duplicates", response_model=Duplicates,
                summary="Cards and persons that look like this client entered twice",
                responses={404: {"description": "No such card"}})
    async def duplicates(client_id: uuid.UUID, _: Annotated[Principal, Depends(READERS)]) -> Duplicates:
        async with database.sessions() as session:
            card = await store.load_card(session, client_id)
            if card is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such client")
            found: dict[uuid.UUID, DuplicateCard] = {}
            flagged = (await session.execute(
                select(clients.c.id, clients.c.name).join(
                    card_audit, ((card_audit.c.other_id == clients.c.id) & (card_audit.c.client_id == client_id))
                    | ((card_audit.c.client_id == clients.c.id) & (card_audit.c.other_id == client_id)))
                .where(card_audit.c.action == "possible-duplicate").distinct())).all()
            for other_id, name in flagged:
                found[other_id] = DuplicateCard(client_id=other_id, name=name, score=100.0,
                                                reason="one contact carried identifiers of both cards")
            token = search_token(card.name)
            if token is not None:
                candidates = (await session.execute(
                    select(clients.c.id, clients.c.name)
                    .where(clients.c.search_name.contains(token, autoescape=True), clients.c.id != client_id,
                           clients.c.kind == card.kind)
                    .limit(MAX_NAME_CANDIDATES))).all()
                for hit in similar_to(card.name, [(r.id, r.name) for r in candidates]):
                    other_id = hit.item
                    if other_id not in found:
                        name = next(r.name for r in candidates if r.id == other_id)
                        found[other_id] = DuplicateCard(client_id=other_id, name=name, score=hit.score,
                                                        reason="similar name")
        persons = [(p.id, p.full_name) for p in card.persons if p.full_name]
        return Duplicates(
            cards=sorted(found.values(), key=lambda d: -d.score),
            persons=[DuplicatePersons(person_ids=(a, b), score=s) for a, b, s in similar_pairs(persons)],
        )

    return router
