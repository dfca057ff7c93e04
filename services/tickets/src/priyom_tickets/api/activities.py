"""``/api/v1/activities`` and ``/api/v1/tickets/{number}/activities``: call-backs, meetings, documents and
tasks, on their ticket and in their owner's list."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from priyom_contracts import utcnow

from .. import changes, store
from ..access import SEES_ALL, StaffRole, staff_of
from ..views import ActivityChange, ActivityRequest, ActivityView
from .deps import ActedTicket, Parts, Session, Staff, ticket_or_404

router = APIRouter(prefix="/api/v1", tags=["activities"])

#: Who may read another person's activity list.
LEADS = SEES_ALL | {StaffRole.TEAM_HEAD}


async def _view(session: Session, activity_id: uuid.UUID) -> ActivityView:
    return ActivityView.model_validate(dict(await store.activity(session, activity_id) or {}))


@router.post("/tickets/{number}/activities", status_code=status.HTTP_201_CREATED,
             summary="Schedule a call-back, meeting, document or task on the ticket",
             responses={404: {"description": "No ticket has this number"}})
async def schedule_activity(body: ActivityRequest, ticket: ActedTicket, who: Staff, session: Session
                            ) -> ActivityView:
    activity_id = await changes.schedule_activity(session, ticket, kind=body.kind, title=body.title,
                                                  owner=body.owner, due_at=body.due_at, actor=who.name,
                                                  now=utcnow())
    await session.commit()
    return await _view(session, activity_id)


@router.patch("/activities/{activity_id}", summary="Reschedule, hand over, finish or reopen an activity",
              responses={404: {"description": "No such activity"}})
async def change_activity(activity_id: uuid.UUID, body: ActivityChange, who: Staff, session: Session,
                          parts: Parts) -> ActivityView:
    activity = await store.activity(session, activity_id)
    if activity is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such activity")
    if activity["owner"] != who.name:
        await ticket_or_404(session, parts, activity["number"], who, act=True)
    await changes.change_activity(session, activity, due_at=body.due_at, owner=body.owner, done=body.done,
                                  actor=who.name, now=utcnow())
    await session.commit()
    return await _view(session, activity_id)


@router.get("/activities", summary="An owner's activities, soonest first (another's: only the tickets you may see)")
async def owner_activities(
    who: Staff, session: Session, parts: Parts,
    owner: Annotated[str | None, Query(max_length=500, description="Whose list; yours by default")] = None,
    done: bool | None = False,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=store.MAX_PAGE)] = 100,
) -> list[ActivityView]:
    viewer = staff_of(who)
    others = owner not in (None, who.name)
    if others and viewer.staff_role not in LEADS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only team heads and supervisors see others' lists")
    # A team head reads another's list for their own teams' tickets only, as they see those tickets.
    rows = await store.activities_of_owner(session, owner or who.name, done=done,
                                           due_before=utcnow() if overdue else None, limit=limit,
                                           teams=parts.access.visible_teams(viewer) if others else None)
    return [ActivityView.model_validate(dict(r)) for r in rows]
