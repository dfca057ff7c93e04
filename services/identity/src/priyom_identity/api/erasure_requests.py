"""``/api/v1/persons/{person_id}/erase``: a person's personal data erased on request (152-FZ / GDPR), audited
under the caller's name; the statistics stay. ``/api/v1/erasures/{erasure_id}``: the erasure's report, what
each service redacted (counts only), ``pending`` for a service that has not reported yet.
``/api/v1/persons/{person_id}/export``: everything held on the person, gathered across services."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from priyom_contracts import ClientChange
from priyom_kit import HttpClient, Principal
from priyom_kit.db import Database

from ..card_changes import CardChanges
from ..erasure import NothingToErase, erase_person
from ..erasure_outbox import ErasureOutbox, request_by_id
from ..erasure_reports import ErasureReport, report_of
from ..subject_access import PersonExport, export_person
from .roles import ERASERS


def erasure_router(database: Database, changes: CardChanges, outbox: ErasureOutbox,
                   exports: Mapping[str, HttpClient | None] | None = None) -> APIRouter:
    """``exports`` reach the services' subject exports (name → client; None: the export says that part is
    missing)."""
    router = APIRouter(prefix="/api/v1", tags=["client base"])

    @router.get("/persons/{person_id}/export", response_model=PersonExport,
                summary="Everything the system holds on a person, across services (subject access request)",
                responses={404: {"description": "No such person"}})
    async def export(person_id: uuid.UUID, _: Annotated[Principal, Depends(ERASERS)]) -> PersonExport:
        try:
            async with database.sessions() as session:
                return await export_person(session, person_id, exports or {})
        except NothingToErase:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such person") from None

    @router.post("/persons/{person_id}/erase", response_model=ErasureReport,
                 summary="Erase a person's personal data everywhere on request (152-FZ / GDPR); statistics stay",
                 responses={404: {"description": "No such person"}})
    async def erase(person_id: uuid.UUID, principal: Annotated[Principal, Depends(ERASERS)]) -> ErasureReport:
        """Erased here at once; the other services follow from the bus and report. Repeating it sends the
        same request again (every redaction is idempotent) and answers with its report so far."""
        try:
            async with database.sessions() as session, session.begin():
                request = await erase_person(session, person_id, actor=principal.name)
        except NothingToErase:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such person") from None
        await changes.committed(ClientChange.ERASED, [request.client_id])
        await outbox.send(request)
        return await _report(database, request.id)

    @router.get("/erasures/{erasure_id}", response_model=ErasureReport,
                summary="What an erasure erased where (counts per service and store), and who has not reported")
    async def report(erasure_id: uuid.UUID, _: Annotated[Principal, Depends(ERASERS)]) -> ErasureReport:
        return await _report(database, erasure_id)

    return router


async def _report(database: Database, erasure_id: uuid.UUID) -> ErasureReport:
    async with database.sessions() as session:
        request = await request_by_id(session, erasure_id)
        if request is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such erasure")
        return await report_of(session, request)
