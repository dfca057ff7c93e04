"""HTTP routes, thin: validate, ask the store, shape the answer (see :mod:`priyom_tickets.views`).

Agents and supervisors read tickets with a bearer token. One route is public: a customer's browser polls it
with the contact id the web form returned, and the random UUID is the capability; it reveals only the number,
the status and when the ticket was registered.
"""

# No ``from __future__ import annotations`` here: FastAPI resolves string annotations against module globals,
# and the Session and Staff aliases below are local to make_router (they close over the database).
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam
from pydantic import AwareDatetime
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from priyom_contracts import AttachmentRef, ChannelName, ContactType, TicketStatus, utcnow
from priyom_kit import Principal, Role, require_roles
from priyom_kit.blobs import BlobStore
from priyom_kit.db import Database

from . import (
    activities,
    lifecycle,
    reports,
    satisfaction,
    store,
    type_correction,
    type_fields,
    uploads,
    workflow,
)
from . import staff as staff_accounts
from .access import SEES_ALL, AccessPolicy, StaffRole, staff_of
from .decisions import DECISIONS
from .lifecycle import Actor, IllegalTransition
from .outbox import Relay
from .views import (
    ActivityChange,
    ActivityRequest,
    ActivityView,
    EscalationRequest,
    PublicTicket,
    RatingRequest,
    RatingView,
    ReplyAccepted,
    ReplyRequest,
    ReportView,
    StaffChange,
    StaffCreated,
    StaffRequest,
    StaffView,
    TicketDetail,
    TicketPage,
    TicketView,
    TransitionRequest,
    TypeCorrectionRequest,
)

PUBLIC_PREFIX = "/api/v1/contacts/"
#: Who may read another person's activity list.
LEADS = SEES_ALL | {StaffRole.TEAM_HEAD}

Number = Annotated[str, PathParam(pattern=r"^[0-9]{4}-[0-9]{6,9}$", max_length=14,
                             description="The ticket's registration number, e.g. 2026-000123")]
Text = Annotated[str | None, Query(max_length=500)]


@dataclass(frozen=True)
class UploadLimits:
    #: Where uploads are spooled while hashed: the blob directory (a rename away from the file store).
    blob_dir: Path
    max_bytes: int
    max_files: int

    @property
    def max_request_bytes(self) -> int:
        return self.max_bytes * self.max_files + 65_536  # the files and their multipart framing


def make_router(database: Database, blobs: BlobStore, relay: Relay, policy: workflow.Policy,
                access: AccessPolicy, limits: UploadLimits) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    Session = Annotated[AsyncSession, Depends(database.session)]
    Staff = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR))]
    Head = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
    Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]

    async def ticket_or_404(session: AsyncSession, number: str, who: Principal, *, act: bool = False,
                            for_update: bool = False) -> RowMapping:
        """The ticket if ``who`` may see it (404 otherwise, so numbers reveal nothing) and, with ``act``,
        may change it (403)."""
        ticket = await store.get_ticket(session, number, for_update=for_update)
        viewer = staff_of(who)
        if ticket is None or not access.may_view(viewer, ticket):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ticket number {number}")
        if act and not access.may_act(viewer, ticket):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"{viewer.staff_role.value} may read but not act on {ticket['team']} tickets")
        return ticket

    @router.get("/tickets", tags=["tickets"], summary="Tickets, newest first, with the total for paging")
    async def list_tickets(
        who: Staff,
        session: Session,
        status: TicketStatus | None = None,
        assignee: Text = None,
        team: Text = None,
        client_id: uuid.UUID | None = None,
        channel: Annotated[ChannelName | None, Query()] = None,
        first_contact: bool | None = None,
        type: ContactType | None = None,  # noqa: A002 - the pinned query parameter's name
        overdue: bool | None = None,
        q: Annotated[str | None, Query(min_length=1, max_length=200,
                                       description="A ticket number, or text in the subject or messages")] = None,
        limit: Annotated[int, Query(ge=1, le=store.MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> TicketPage:
        where = store.TicketFilter(status=status, assignee=assignee, team=team, client_id=client_id,
                                   channel=channel, first_contact=first_contact, type=type, overdue=overdue,
                                   now=utcnow(), q=q, teams=access.visible_teams(staff_of(who)),
                                   viewer=who.name)
        rows, total = await store.list_tickets(session, where, limit=limit, offset=offset)
        items = [TicketView.from_row(r) for r in rows]
        return TicketPage(items=items, total=total, limit=limit, offset=offset)

    def type_choices(ticket: RowMapping, who: Principal) -> list[ContactType]:
        """What the "change type" control offers: every other type, to those who may act on an open ticket."""
        if TicketStatus(ticket["status"]) in lifecycle.FINAL or not access.may_act(staff_of(who), ticket):
            return []
        return [t for t in ContactType if t.value != ticket["type"]]

    async def detail(session: AsyncSession, ticket: RowMapping, who: Principal) -> TicketDetail:
        messages = await store.messages_of(session, ticket["seq"])
        attachments = await store.attachments_of(session, [m["id"] for m in messages])
        history = await store.history_of(session, ticket["seq"])
        todo = await activities.of_ticket(session, ticket["seq"])
        actions = lifecycle.available(ContactType(ticket["type"]), TicketStatus(ticket["status"]))
        rating = await satisfaction.rating_of(session, ticket["seq"])
        return TicketDetail.assemble(ticket, messages, attachments, history, todo, actions, rating,
                                     type_choices(ticket, who))

    @router.get("/tickets/{number}", tags=["tickets"],
                summary="One ticket with its thread, audit history and the actions its status allows",
                responses={404: {"description": "No ticket has this number"}})
    async def get_ticket(number: Number, who: Staff, session: Session) -> TicketDetail:
        return await detail(session, await ticket_or_404(session, number, who), who)

    @router.post("/tickets/{number}/transitions", tags=["tickets"],
                 summary="Move the ticket through its type's lifecycle (see its `actions`)",
                 responses={404: {"description": "No ticket has this number"},
                            409: {"description": "The action is not allowed now, or lacks a decision"}})
    async def transition(number: Number, body: TransitionRequest, who: Staff, session: Session) -> TicketDetail:
        ticket = await ticket_or_404(session, number, who, act=True, for_update=True)
        change = workflow.Change(body.action, body.decision, body.decision_text, body.result, body.note)
        actor = Actor.CUSTOMER if body.on_behalf_of_customer else Actor.STAFF
        try:
            await workflow.transition(session, ticket, change, actor=actor, actor_name=who.name, policy=policy,
                                      now=utcnow())
        except IllegalTransition as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        await session.commit()
        await relay.flush_quietly()
        return await detail(session, await ticket_or_404(session, number, who), who)

    @router.post("/tickets/{number}/type", tags=["tickets"],
                 summary="Correct the ticket's type: its lifecycle, SLA and fields follow, and the router learns",
                 responses={403: {"description": "The caller may see the ticket but not act on it"},
                            404: {"description": "No ticket has this number"},
                            409: {"description": "The ticket is closed or cancelled, or already of this type"},
                            422: {"description": "Not a known type"}})
    async def correct_type(number: Number, body: TypeCorrectionRequest, who: Staff,
                           session: Session) -> TicketDetail:
        ticket = await ticket_or_404(session, number, who, act=True, for_update=True)
        correction = type_correction.Correction(body.type, body.category, body.note)
        try:
            await type_correction.correct_type(session, ticket, correction, actor_name=who.name, policy=policy,
                                               now=utcnow())
        except IllegalTransition as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        await session.commit()
        await relay.flush_quietly()
        return await detail(session, await ticket_or_404(session, number, who), who)

    @router.post("/tickets/{number}/replies", tags=["tickets"], status_code=status.HTTP_202_ACCEPTED,
                 summary="Send the customer a reply on the ticket's channel",
                 responses={404: {"description": "No ticket has this number"},
                            409: {"description": "The ticket is closed, or its channel cannot carry replies"}})
    async def send_reply(number: Number, body: ReplyRequest, who: Staff, session: Session) -> ReplyAccepted:
        ticket = await ticket_or_404(session, number, who, act=True, for_update=True)
        if TicketStatus(ticket["status"]) in lifecycle.FINAL:
            raise HTTPException(status.HTTP_409_CONFLICT, f"ticket {number} is {ticket['status']}")
        if len(body.attachments) > limits.max_files:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"at most {limits.max_files} files")
        for ref in body.attachments:
            if await blobs.size(ref.blob_key) != ref.size:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                    f"{ref.filename!r} was not uploaded (or not with this size)")
        sent = await workflow.reply(session, ticket, body.body, author=who.name, policy=policy, now=utcnow(),
                                    attachments=body.attachments)
        if sent is None:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"no reply path: channel {ticket['channel']!r} cannot deliver replies")
        await session.commit()
        await relay.flush_quietly()
        return ReplyAccepted(reply_id=sent.reply_id, channel=sent.channel)

    @router.post("/tickets/{number}/escalations", tags=["tickets"],
                 summary="Record an escalation: to the team head, the second line or an outside vendor",
                 responses={404: {"description": "No ticket has this number"},
                            409: {"description": "The ticket is already closed or cancelled"}})
    async def escalate(number: Number, body: EscalationRequest, who: Staff, session: Session) -> TicketDetail:
        ticket = await ticket_or_404(session, number, who, act=True, for_update=True)
        if TicketStatus(ticket["status"]) in lifecycle.FINAL:
            raise HTTPException(status.HTTP_409_CONFLICT, f"ticket {number} is {ticket['status']}")
        await workflow.escalate(session, ticket, body.level, body.to, actor_name=who.name, note=body.note,
                                now=utcnow())
        await session.commit()
        return await detail(session, await ticket_or_404(session, number, who), who)

    @router.post("/tickets/{number}/activities", tags=["activities"], status_code=status.HTTP_201_CREATED,
                 summary="Schedule a call-back, meeting, document or task on the ticket",
                 responses={404: {"description": "No ticket has this number"}})
    async def schedule_activity(number: Number, body: ActivityRequest, who: Staff,
                                session: Session) -> ActivityView:
        ticket = await ticket_or_404(session, number, who, act=True, for_update=True)
        activity_id = await activities.schedule(session, ticket, kind=body.kind, title=body.title,
                                                owner=body.owner, due_at=body.due_at, actor=who.name,
                                                now=utcnow())
        await session.commit()
        return ActivityView.model_validate(dict(await activities.get(session, activity_id) or {}))

    @router.patch("/activities/{activity_id}", tags=["activities"],
                  summary="Reschedule, hand over, finish or reopen an activity",
                  responses={404: {"description": "No such activity"}})
    async def change_activity(activity_id: uuid.UUID, body: ActivityChange, who: Staff,
                              session: Session) -> ActivityView:
        activity = await activities.get(session, activity_id)
        if activity is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such activity")
        if activity["owner"] != who.name:
            await ticket_or_404(session, activity["number"], who, act=True)
        await activities.change(session, activity, due_at=body.due_at, owner=body.owner, done=body.done,
                                actor=who.name, now=utcnow())
        await session.commit()
        return ActivityView.model_validate(dict(await activities.get(session, activity_id) or {}))

    @router.get("/activities", tags=["activities"], summary="An owner's activities, soonest first")
    async def owner_activities(
        who: Staff, session: Session,
        owner: Annotated[str | None, Query(max_length=500, description="Whose list; yours by default")] = None,
        done: bool | None = False,
        overdue: bool = False,
        limit: Annotated[int, Query(ge=1, le=store.MAX_PAGE)] = 100,
    ) -> list[ActivityView]:
        if owner not in (None, who.name) and staff_of(who).staff_role not in LEADS:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "only team heads and supervisors see others' lists")
        rows = await activities.of_owner(session, owner or who.name, done=done,
                                         due_before=utcnow() if overdue else None, limit=limit)
        return [ActivityView.model_validate(dict(r)) for r in rows]

    async def record_rating(session: AsyncSession, ticket: RowMapping, body: RatingRequest, channel: str,
                            actor: str) -> RatingView:
        if ticket["status"] != TicketStatus.CLOSED:
            raise HTTPException(status.HTTP_409_CONFLICT, "only a closed ticket is rated")
        if not await satisfaction.rate(session, ticket, body.rating, body.comment, channel=channel, actor=actor,
                                       now=utcnow()):
            raise HTTPException(status.HTTP_409_CONFLICT, "this ticket is already rated")
        await session.commit()
        return RatingView.model_validate(dict(await satisfaction.rating_of(session, ticket["seq"]) or {}))

    @router.post("/tickets/{number}/satisfaction", tags=["tickets"], status_code=status.HTTP_201_CREATED,
                 summary="Record the customer's 1–5 rating of a closed ticket (given by phone, say)",
                 responses={404: {"description": "No ticket has this number"},
                            409: {"description": "Not closed yet, or already rated"}})
    async def rate_ticket(number: Number, body: RatingRequest, who: Staff, session: Session) -> RatingView:
        ticket = await ticket_or_404(session, number, who, act=True, for_update=True)
        return await record_rating(session, ticket, body, body.channel or "telephony", who.name)

    @router.get("/reports/tickets", tags=["reports"],
                summary="Tickets grouped by client, agent, status, type, channel or team over a period",
                response_model=ReportView,
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

    @router.post("/staff", tags=["staff"], status_code=status.HTTP_201_CREATED,
                 summary="Make a staff account; the answer holds its token, shown this once",
                 responses={403: {"description": "Admins only"}, 409: {"description": "The name is taken"}})
    async def create_staff(body: StaffRequest, _: Admin, session: Session) -> StaffCreated:
        try:
            token = await staff_accounts.create(session, body.name, body.role, body.teams, body.extension)
            await session.commit()
        except IntegrityError:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"{body.name!r} already has an account, or the extension is taken") from None
        return StaffCreated(name=body.name, role=body.role, teams=sorted(set(body.teams)),
                            extension=body.extension, token=token)

    @router.patch("/staff/{name}", tags=["staff"], summary="Set or clear a staff member's phone extension",
                  responses={403: {"description": "Admins only"}, 404: {"description": "No such account"},
                             409: {"description": "Another account has this extension"}})
    async def change_staff(name: Annotated[str, PathParam(max_length=500)], body: StaffChange, _: Admin,
                           session: Session) -> StaffView:
        try:
            row = await staff_accounts.set_extension(session, name, body.extension)
            await session.commit()
        except IntegrityError:
            raise HTTPException(status.HTTP_409_CONFLICT, f"extension {body.extension} is taken") from None
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account named {name!r}")
        return StaffView.model_validate(dict(row))

    @router.get("/staff", tags=["staff"], summary="Staff accounts (without tokens)",
                responses={403: {"description": "Admins only"}})
    async def list_staff(_: Admin, session: Session) -> list[StaffView]:
        return [StaffView.model_validate(dict(r)) for r in await staff_accounts.listing(session)]

    @router.post("/tickets/{number}/attachments", tags=["tickets"], status_code=status.HTTP_201_CREATED,
                 summary="Upload files for a reply (multipart, field `files`); the answer goes into the reply",
                 responses={404: {"description": "No ticket has this number"},
                            411: {"description": "No Content-Length"},
                            413: {"description": "A file or the whole upload is over the limit"}})
    async def upload(number: Number, request: Request, who: Staff, session: Session) -> list[AttachmentRef]:
        await ticket_or_404(session, number, who, act=True)
        declared = request.headers.get("content-length")
        if declared is None or not declared.isdigit():
            raise HTTPException(status.HTTP_411_LENGTH_REQUIRED, "Content-Length required")
        if int(declared) > limits.max_request_bytes:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                f"an upload is at most {limits.max_request_bytes} bytes")
        stored = []
        async with request.form(max_files=limits.max_files, max_fields=5) as form:
            files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
            if not files:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no files in field 'files'")
            for file in files:
                name = PurePath((file.filename or "file").replace("\\", "/")).name[:255] or "file"
                try:
                    kept = await uploads.store_stream(blobs, limits.blob_dir, file.read, name, limits.max_bytes)
                except uploads.TooLarge as exc:
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
                stored.append(AttachmentRef(blob_key=kept.blob_key, filename=name, content_type=kept.content_type,
                                            size=kept.size))
        return stored

    @router.get("/ticket-fields", tags=["tickets"], summary="Each ticket type's own fields: name, title, kind")
    async def ticket_fields(_: Staff) -> dict[str, list[dict[str, str]]]:
        return type_fields.describe()

    @router.put("/tickets/{number}/fields", tags=["tickets"],
                summary="Set the fields of the ticket's type (a complaint's claimed amount, a contract number)",
                responses={404: {"description": "No ticket has this number"},
                           409: {"description": "The ticket is closed or cancelled"},
                           422: {"description": "A field the type does not have, or a value that does not fit"}})
    async def set_fields(number: Number, body: Annotated[dict[str, Any], Body(max_length=20)], who: Staff,
                         session: Session) -> TicketDetail:
        ticket = await ticket_or_404(session, number, who, act=True, for_update=True)
        if TicketStatus(ticket["status"]) in lifecycle.FINAL:
            raise HTTPException(status.HTTP_409_CONFLICT, f"ticket {number} is {ticket['status']}")
        try:
            values = type_fields.validate(ContactType(ticket["type"]), body)
        except type_fields.InvalidFields as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, exc.errors) from None
        await workflow.set_type_fields(session, ticket, values, actor_name=who.name, now=utcnow())
        await session.commit()
        return await detail(session, await ticket_or_404(session, number, who), who)

    @router.get("/decisions", tags=["tickets"], summary="The decisions dictionary: code and title")
    async def decisions(_: Staff) -> dict[str, str]:
        return dict(DECISIONS)

    @router.get("/tickets/{number}/attachments/{attachment_id}", tags=["tickets"],
                summary="Download an attachment's content", response_class=Response,
                responses={200: {"content": {"application/octet-stream": {}}},
                           404: {"description": "No such attachment on this ticket, or its content is gone"}})
    async def download_attachment(
        number: Number, attachment_id: uuid.UUID, who: Staff, session: Session
    ) -> Response:
        await ticket_or_404(session, number, who)
        row = await store.attachment(session, number, attachment_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such attachment on this ticket")
        try:
            content = await blobs.get(row["blob_key"])
        except KeyError:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                "the attachment's content is not in the blob store") from None
        # Customer-supplied content: always a download, never rendered by the agent's browser.
        return Response(content, media_type=row["content_type"], headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row['filename'])}",
            "X-Content-Type-Options": "nosniff",
        })

    @router.get("/contacts/{contact_id}/ticket", tags=["public"],
                summary="The ticket a contact became (public: the contact id is the capability)",
                responses={404: {"description": "No ticket yet: the contact is still on its way"}})
    async def ticket_of_contact(contact_id: uuid.UUID, session: Session, response: Response) -> PublicTicket:
        row = await store.ticket_of_contact(session, contact_id)
        response.headers["Cache-Control"] = "no-store"
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no ticket for this contact yet",
                                headers={"Cache-Control": "no-store"})
        return PublicTicket.model_validate(dict(row))

    @router.post("/contacts/{contact_id}/satisfaction", tags=["public"], status_code=status.HTTP_201_CREATED,
                 summary="The customer rates their closed ticket (public: the contact id is the capability)",
                 responses={404: {"description": "No ticket for this contact"},
                            409: {"description": "Not closed yet, or already rated"}})
    async def customer_rates(contact_id: uuid.UUID, body: RatingRequest, session: Session) -> RatingView:
        row = await store.ticket_of_contact(session, contact_id)
        ticket = await store.get_ticket(session, row["number"], for_update=True) if row else None
        if ticket is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no ticket for this contact")
        return await record_rating(session, ticket, body, "web", "customer")

    return router
