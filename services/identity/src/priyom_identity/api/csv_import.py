"""``/api/v1/clients/import``: a client base from CSV (name, company, phones, emails, manager), with a report of
the rows it could not take."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel

from priyom_contracts import ClientChange
from priyom_kit import Principal
from priyom_kit.db import Database

from ..card_changes import CardChanges
from ..csv_rows import ImportRefused, read_rows
from ..importing import ImportReport, import_rows
from ..policy import MatchPolicy
from .roles import WRITERS


class RowErrorView(BaseModel):
    line: int
    reason: str


class ImportResult(BaseModel):
    cards_created: int
    persons_added: int
    rows_rejected: int
    errors: list[RowErrorView]


def csv_import_router(database: Database, policy: MatchPolicy, changes: CardChanges,
                      import_max_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["client base"])

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
