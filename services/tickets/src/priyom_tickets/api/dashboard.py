"""``/api/v1/dashboard`` and its page ``/console/dashboard``: the supervisor's live picture (see
:mod:`priyom_tickets.dashboard`). Supervisors and admins only; the page uses the console's login and redraws
when the console's live channel says a ticket changed."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from priyom_contracts import utcnow

from .. import dashboard
from .console import HEADERS, static_file
from .deps import Head, Parts, Session

router = APIRouter(tags=["dashboard"])


class TeamFigures(BaseModel):
    team: str
    open: int = Field(description="Tickets still being worked")
    waiting: int = Field(description="Of those, in the team's queue with nobody assigned")
    overdue: int = Field(description="Of those, past a deadline")


class TodayFigures(BaseModel):
    first_responses: int = Field(description="First responses given today (the desk's time zone)")
    first_responses_in_time: int
    resolved: int = Field(description="Tickets resolved today")
    resolved_in_time: int


class CallFigures(BaseModel):
    ringing: int = Field(description="Calls ringing now (no one has answered yet)")
    talking: int = Field(description="Calls answered and not yet over")
    answered: int = Field(description="Inbound calls answered today (the desk's time zone)")
    missed: int = Field(description="Inbound calls today nobody answered, or the caller left the queue")


class AgentFigures(BaseModel):
    name: str
    open: int = Field(description="Tickets assigned and still being worked")
    online: bool = Field(description="A live console is open (on this tickets instance)")


class HourFigures(BaseModel):
    hour: str = Field(description="The hour's start, UTC")
    created: int
    resolved: int


class Dashboard(BaseModel):
    at: str
    teams: list[TeamFigures]
    today: TodayFigures
    calls: CallFigures
    agents: list[AgentFigures]
    hours: list[HourFigures] = Field(description="The last 24 hours, oldest first")


@router.get("/api/v1/dashboard", summary="The supervisor's live picture: queues, lateness, today's SLA, agents, "
                                         "the last 24 hours", responses={403: {"description": "Supervisors only"}})
async def supervisor_dashboard(_: Head, session: Session, parts: Parts) -> Dashboard:
    figures = await dashboard.picture(session, utcnow(), parts.policy.zone, parts.live.names(),
                                      parts.live.calls_now())
    return Dashboard.model_validate(figures)


@router.get("/console/dashboard", response_class=Response, summary="The supervisor's dashboard (HTML; uses the "
            "console's login)", responses={200: {"content": {"text/html": {}}}})
async def dashboard_page() -> Response:
    return Response(static_file("dashboard.html"), media_type="text/html; charset=utf-8", headers=HEADERS)
