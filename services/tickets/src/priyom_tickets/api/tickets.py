"""``/api/v1/tickets``: the agents' list, one ticket with its thread and history, and the changes an agent
makes to it (lifecycle moves, type, escalation, fields). Thin: :mod:`..changes` makes every change."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, status
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ChannelName, ContactType, TicketStatus, utcnow
from priyom_kit import Principal

from .. import changes, escalation_targets, lifecycle, staff_notices, store, type_correction, type_fields
from .. import staff as accounts
from ..access import staff_of
from ..activities import ActivityKind
from ..decisions import DECISIONS
from ..lifecycle import Actor
from ..views import (
    EscalationRequest,
    TicketDetail,
    TicketPage,
    TicketView,
    TransitionRequest,
    TypeCorrectionRequest,
)
from .deps import ActedTicket, ApiParts, Number, OpenTicket, Parts, Session, Staff, ViewedTicket, commit

router = APIRouter(prefix="/api/v1", tags=["tickets"])

Text = Annotated[str | None, Query(max_length=500)]
NOT_FOUND = {404: {"description": "No ticket has this number"}}


@router.get("/tickets", summary="Tickets, newest first, with the total for paging")
async def list_tickets(
    who: Staff,
    session: Session,
    parts: Parts,
    status: TicketStatus | None = None,
    assignee: Text = None,
    team: Text = None,
    client_id: uuid.UUID | None = None,
    channel: Annotated[ChannelName | None, Query()] = None,
    first_contact: bool | None = None,
    type: ContactType | None = None,  # noqa: A002 - the pinned query parameter's name
    overdue: bool | None = None,
    working: Annotated[bool | None, Query(description="Only tickets still being worked (true) or done (false)")] = None,
    unassigned: Annotated[bool | None, Query(description="Only tickets nobody is assigned (true)")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200,
                                   description="A ticket number, or text in the subject or messages")] = None,
    limit: Annotated[int, Query(ge=1, le=store.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TicketPage:
    where = store.TicketFilter(status=status, assignee=assignee, team=team, client_id=client_id,
                               channel=channel, first_contact=first_contact, type=type, overdue=overdue,
                               working=working, unassigned=unassigned, now=utcnow(), q=q,
                               teams=parts.access.visible_teams(staff_of(who)),
                               viewer=who.name)
    rows, total = await store.list_tickets(session, where, limit=limit, offset=offset)
    return TicketPage(items=[TicketView.from_row(r) for r in rows], total=total, limit=limit, offset=offset)


async def detail(session: AsyncSession, parts: ApiParts, ticket: RowMapping, who: Principal) -> TicketDetail:
    """The ticket as an agent opens it: thread, attachments, history, activities, actions, rating."""
    messages = await store.messages_of(session, ticket["seq"])
    attachments = await store.attachments_of(session, [m["id"] for m in messages])
    history = await store.history_of(session, ticket["seq"])
    todo = await store.activities_of(session, ticket["seq"])
    actions = lifecycle.available(ContactType(ticket["type"]), TicketStatus(ticket["status"]))
    rating = await store.rating_of(session, ticket["seq"])
    # What the "change type" control offers: every other type, to those who may act on an open ticket.
    retypes = [] if TicketStatus(ticket["status"]) in lifecycle.FINAL or not parts.access.may_act(
        staff_of(who), ticket) else [t for t in ContactType if t.value != ticket["type"]]
    return TicketDetail.assemble(ticket, messages, attachments, history, todo, actions, rating, retypes)


async def after_change(session: AsyncSession, parts: ApiParts, number: str, who: Principal) -> TicketDetail:
    """Commit the change, send what it staged, and answer with the ticket as it is now."""
    await commit(session, parts)
    ticket = await store.get_ticket(session, number)
    assert ticket is not None  # noqa: S101 - it was locked and changed in this request
    return await detail(session, parts, ticket, who)


@router.get("/tickets/{number}", responses=NOT_FOUND,
            summary="One ticket with its thread, audit history and the actions its status allows")
async def get_ticket(ticket: ViewedTicket, who: Staff, session: Session, parts: Parts) -> TicketDetail:
    return await detail(session, parts, ticket, who)


@router.post("/tickets/{number}/transitions",
             summary="Move the ticket through its type's lifecycle (see its `actions`)",
             responses=NOT_FOUND | {409: {"description": "The action is not allowed now, or lacks a decision"}})
async def transition(number: Number, body: TransitionRequest, ticket: ActedTicket, who: Staff, session: Session,
                     parts: Parts) -> TicketDetail:
    change = lifecycle.Change(body.action, body.decision, body.decision_text, body.result, body.note)
    actor = Actor.CUSTOMER if body.on_behalf_of_customer else Actor.STAFF
    await changes.transition(session, ticket, change, actor=actor, actor_name=who.name, policy=parts.policy,
                             now=utcnow())
    return await after_change(session, parts, number, who)


@router.post("/tickets/{number}/type",
             summary="Correct the ticket's type: its lifecycle, SLA and fields follow, and the router learns",
             responses=NOT_FOUND | {403: {"description": "The caller may see the ticket but not act on it"},
                                    409: {"description": "The ticket is closed or cancelled, or already of "
                                                         "this type"},
                                    422: {"description": "Not a known type"}})
async def correct_type(number: Number, body: TypeCorrectionRequest, ticket: ActedTicket, who: Staff,
                       session: Session, parts: Parts) -> TicketDetail:
    correction = type_correction.Correction(body.type, body.category, body.note)
    await changes.correct_type(session, ticket, correction, actor_name=who.name, policy=parts.policy, now=utcnow())
    return await after_change(session, parts, number, who)


@router.post("/tickets/{number}/escalations",
             summary="Escalate: the team head or the second line takes the ticket over; a vendor's case is recorded, "
                     "with its deadline as the agent's task",
             responses=NOT_FOUND | {409: {"description": "The ticket is already closed or cancelled"}})
async def escalate(number: Number, body: EscalationRequest, ticket: OpenTicket, who: Staff, session: Session,
                   parts: Parts) -> TicketDetail:
    now = utcnow()
    target = escalation_targets.target_of(body.level, body.to, ticket, staff=await accounts.active_names(session),
                                          heads=parts.policy.team_heads)
    # Whoever it reaches is mailed too: the person who takes it over, else the head of the team it waits in.
    notices = [] if target is None else await staff_notices.escalation_notices(
        session, ticket, [target.assignee or parts.policy.team_heads.get(target.team)], level=body.level,
        by=who.name, note=body.note, now=now)
    await changes.escalate(session, ticket, body.level, body.to, actor_name=who.name, note=body.note, now=now,
                           notices=notices)
    if target is not None:
        await changes.assign(session, ticket, team=target.team, assignee=target.assignee, by=who.name,
                             reason=f"эскалация ({body.level.value}): {body.to}", now=now)
    if body.due_at is not None:  # the vendor's deadline: a task that reminds the agent following the case
        await changes.schedule_activity(session, ticket, kind=ActivityKind.TASK, title=f"Ответ поставщика: {body.to}",
                                        owner=ticket["assignee"] or who.name, due_at=body.due_at, actor=who.name,
                                        now=now)
    return await after_change(session, parts, number, who)


@router.get("/ticket-fields", summary="Each ticket type's own fields: name, title, kind")
async def ticket_fields(_: Staff) -> dict[str, list[dict[str, str]]]:
    return type_fields.describe()


@router.put("/tickets/{number}/fields",
            summary="Set the fields of the ticket's type (a complaint's claimed amount, a contract number)",
            responses=NOT_FOUND | {409: {"description": "The ticket is closed or cancelled"},
                                   422: {"description": "A field the type does not have, or a value that does "
                                                        "not fit"}})
async def set_fields(number: Number, body: Annotated[dict[str, Any], Body(max_length=20)], ticket: OpenTicket,
                     who: Staff, session: Session, parts: Parts) -> TicketDetail:
    try:
        values = type_fields.validate(ContactType(ticket["type"]), body)
    except type_fields.InvalidFields as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, exc.errors) from None
    await changes.set_type_fields(session, ticket, values, actor_name=who.name, now=utcnow())
    return await after_change(session, parts, number, who)


@router.get("/decisions", summary="The decisions dictionary: code and title")
async def decisions(_: Staff) -> dict[str, str]:
    return dict(DECISIONS)
