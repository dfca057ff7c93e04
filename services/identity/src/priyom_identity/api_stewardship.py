"""HTTP routes that keep the client base clean: duplicate suggestions, merge and its undo, erasure, CSV import.

Merges and erasures are audited (:func:`store.record_audit`) under the caller's principal name; each of
them, and an import, drops the cards it touched from the lookup cache after the commit.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel
from sqlalchemy import select

from priyom_contracts import ClientCard, ClientChange
from priyom_kit import Principal, Role, require_roles
from priyom_kit.db import Database

from . import store
from .api import READERS, WRITERS
from .card_changes import CardChanges
from .cards import MergeRequest
from .csv_rows import ImportRefused, read_rows
from .duplicates import search_token, similar_pairs, similar_to
from .erasure import NothingToErase, erase_person
from .importing import ImportReport, import_rows
from .merging import CardGone, MergeRefused, NothingToUndo, merge_cards, undo_merge
from .policy import MatchPolicy
from .tables import card_audit, clients

#: Erasure is irreversible, so only supervisors (and admins) may order it.
ERASERS = require_roles(Role.SUPERVISOR)
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


class ErasureDone(BaseModel):
    client_id: uuid.UUID
    person_id: uuid.UUID


class RowErrorView(BaseModel):
    line: int
    reason: str


class ImportResult(BaseModel):
    cards_created: int
    persons_added: int
    rows_rejected: int
    errors: list[RowErrorView]


def stewardship_router(database: Database, policy: MatchPolicy, changes: CardChanges,
                       import_max_bytes: int) -> APIRouter:
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
        await changes.committed(ClientChange.MERGED, [client_id, body.source_id])
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
        await changes.committed(ClientChange.UNMERGED, [client_id, source_id])
        async with database.sessions() as session:
            card = await store.load_card(session, source_id)
        assert card is not None
        return card

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

    @router.post("/clients/import", response_model=ImportResult,
                 summary="Import a client base from CSV (name, company, phones, emails, manager)",
                 openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}},
                                                "required": True}},
                 responses={413: {"description": "File too large"},
                            422: {"description": "Not a CSV file we can read; bad rows are in the report"}})
    async def import_csv(request: Request, _: Annotated[Principal, Depends(WRITERS)]) -> ImportResult:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > import_max_bytes:
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                    f"the import is larger than {import_max_bytes} bytes")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = body.decode("cp1251")  # what Excel saves "CSV" as on Russian Windows
            except UnicodeDecodeError:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "not UTF-8 or cp1251 text") from None
        try:
            rows, errors = read_rows(text, policy)
        except ImportRefused as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        report = ImportReport(errors=list(errors))
        async with database.sessions() as session, session.begin():
            await import_rows(session, rows, report)
        await changes.committed(ClientChange.IMPORTED, report.changed)
        ordered = sorted(report.errors, key=lambda e: e.line)
        return ImportResult(cards_created=report.cards_created, persons_added=report.persons_added,
                            rows_rejected=len(ordered),
                            errors=[RowErrorView(line=e.line, reason=e.reason) for e in ordered])

    return router
