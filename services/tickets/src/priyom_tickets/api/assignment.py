"""``/api/v1/tickets/{number}/assignment``: an agent takes a ticket, hands it to a colleague, or transfers it
to another team (or back to its team's queue), from the console.

The move goes through :func:`priyom_tickets.changes.assign`, which records it in the history and announces it
(``ticket.assigned``) so the router moves the ticket's weight in its load counters: the next contact it gives
out still goes to whoever really has the fewest open tickets.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from priyom_contracts import utcnow

from .. import changes
from .. import staff as accounts
from ..views import ShortField
from .deps import OpenTicket, Parts, Session, Staff, commit

router = APIRouter(prefix="/api/v1/tickets/{number}", tags=["tickets"])


class AssignmentRequest(BaseModel):
    """Take: ``assignee`` is the caller. Hand over: another agent. Transfer: ``team`` (with an agent of it, or
    none: the ticket waits in that team's queue). Neither: back to the ticket's team's queue."""

    assignee: ShortField | None = Field(default=None, description="A staff account's name; none: the team's queue")
    team: ShortField | None = Field(default=None, description="The team; none: the ticket's own")
    reason: ShortField | None = None


class AssignmentView(BaseModel):
    number: str
    team: str
    assignee: str | None
    changed: bool = Field(description="False when the ticket already stood so (nothing recorded nor announced)")


@router.post("/assignment", summary="Take a ticket, hand it to a colleague or transfer it to a team",
             responses={404: {"description": "No ticket has this number"},
                        409: {"description": "The ticket is closed or cancelled"},
                        422: {"description": "The assignee is no active staff account"}})
async def assign(body: AssignmentRequest, ticket: OpenTicket, who: Staff, session: Session,
                 parts: Parts) -> AssignmentView:
    if body.assignee is not None and body.assignee not in await accounts.active_names(session):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{body.assignee!r} is no active staff account")
    team = body.team or ticket["team"]
    how = "took it" if body.assignee == who.name else "handed it over" if body.assignee else "sent it to the queue"
    changed = await changes.assign(session, ticket, team=team, assignee=body.assignee, by=who.name,
                                   reason=body.reason or f"{who.name} {how}", now=utcnow())
    await commit(session, parts)
    return AssignmentView(number=ticket["number"], team=team if changed else ticket["team"],
                          assignee=body.assignee if changed else ticket["assignee"], changed=changed)
