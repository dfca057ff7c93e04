"""The erasure report: what was erased where, as counts per service and store, never the data.

Each service that keeps personal data answers an erasure with ``erasure.reported.v1``; identity keeps the
latest report of each (a repeated erasure reports again, and replaces it) and writes it to the card audit, so
the record of what an erasure reached outlives the request. Until every service in
:data:`~priyom_contracts.ERASURE_REPORTERS` has reported, the request shows which are still pending: a service
that was down catches up from its durable queue when it starts, and its report arrives then.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ERASURE_REPORTERS, ErasureReported, utcnow

from . import store
from .erasure_outbox import ErasureRequest
from .tables import erasure_reports


class ServiceReport(BaseModel):
    service: str
    status: str  # "done" or "pending"
    reported_at: datetime | None = None
    counts: dict[str, int] = {}


class ErasureReport(BaseModel):
    erasure_id: uuid.UUID
    person_id: uuid.UUID
    client_id: uuid.UUID
    requested_at: datetime
    announced: bool
    complete: bool
    services: list[ServiceReport]


async def record(session: AsyncSession, report: ErasureReported, request: ErasureRequest | None) -> None:
    """Keep a service's report (the latest one wins) and audit it; runs in the caller's transaction."""
    await session.execute(delete(erasure_reports).where(erasure_reports.c.erasure_id == report.erasure_id,
                                                        erasure_reports.c.service == report.service))
    await session.execute(erasure_reports.insert().values(erasure_id=report.erasure_id, service=report.service,
                                                          counts=dict(report.counts), reported_at=utcnow()))
    if request is not None:
        await store.record_audit(session, "erasure-reported", request.client_id, actor=report.service,
                                 detail={"erasure_id": str(report.erasure_id), **report.counts})


async def report_of(session: AsyncSession, request: ErasureRequest) -> ErasureReport:
    rows = {row.service: row for row in (await session.execute(
        select(erasure_reports).where(erasure_reports.c.erasure_id == request.id))).all()}
    services = [ServiceReport(service="identity", status="done", reported_at=request.requested_at,
                              counts=request.counts)]
    for name in ERASURE_REPORTERS:
        row = rows.get(name)
        services.append(ServiceReport(service=name, status="done", reported_at=row.reported_at, counts=row.counts)
                        if row else ServiceReport(service=name, status="pending"))
    return ErasureReport(erasure_id=request.id, person_id=request.person_id, client_id=request.client_id,
                         requested_at=request.requested_at, announced=request.published_at is not None,
                         complete=all(s.status == "done" for s in services), services=services)
