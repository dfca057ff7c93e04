"""``/api/v1/reports/tickets``: tickets grouped over a period, for team heads and directors (JSON or CSV)."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from priyom_contracts import utcnow

from .. import reports
from ..views import ReportView
from .deps import Head, Session

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/reports/tickets", response_model=ReportView,
            summary="Tickets grouped by client, agent, status, type, channel or team over a period",
            responses={200: {"content": {"text/csv": {}}}, 403: {"description": "Supervisors only"}})
async def ticket_report(
    _: Head, session: Session, group_by: reports.GroupBy = reports.GroupBy.STATUS,
    start: Annotated[AwareDatetime | None, Query(alias="from", description="Registered at or after")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to", description="Registered before")] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",  # noqa: A002 - the query's name
) -> Response | ReportView:
    rows = await reports.ticket_report(session, group_by, reports.Period(start, end), utcnow())
    if format == "csv":
        return Response(reports.to_csv(rows), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="tickets-by-{group_by.value}.csv"'})
    return ReportView(group_by=group_by.value, start=start, end=end, rows=rows)
