"""HTTP routes, thin: validate, ask the store, shape the answer (see :mod:`priyom_tickets.views`).

Agents and supervisors read tickets with a bearer token. One route is public: a customer's browser polls it
with the contact id the web form returned, and the random UUID is the capability; it reveals only the number,
the status and when the ticket was registered.
"""

# No ``from __future__ import annotations`` here: FastAPI resolves string annotations against module globals,
# and the Session and Staff aliases below are local to make_router (they close over the database).
import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ChannelName, TicketStatus
from priyom_kit import Principal, Role, require_roles
from priyom_kit.blobs import BlobStore
from priyom_kit.db import Database

from . import store
from .views import PublicTicket, TicketDetail, TicketPage, TicketView

PUBLIC_PREFIX = "/api/v1/contacts/"

Number = Annotated[int, Path(gt=0, le=2**31 - 1, description="The ticket's registration number")]
Text = Annotated[str | None, Query(max_length=500)]


def make_router(database: Database, blobs: BlobStore) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    Session = Annotated[AsyncSession, Depends(database.session)]
    Staff = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR))]

    @router.get("/tickets", tags=["tickets"], summary="Tickets, newest first, with the total for paging")
    async def list_tickets(
        _: Staff,
        session: Session,
        status: TicketStatus | None = None,
        assignee: Text = None,
        team: Text = None,
        client_id: uuid.UUID | None = None,
        channel: Annotated[ChannelName | None, Query()] = None,
        first_contact: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=store.MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> TicketPage:
        where = store.TicketFilter(status=status, assignee=assignee, team=team, client_id=client_id,
                                   channel=channel, first_contact=first_contact)
        rows, total = await store.list_tickets(session, where, limit=limit, offset=offset)
        items = [TicketView.from_row(r) for r in rows]
        return TicketPage(items=items, total=total, limit=limit, offset=offset)

    @router.get("/tickets/{number}", tags=["tickets"], summary="One ticket with its messages and attachments",
                responses={404: {"description": "No ticket has this number"}})
    async def get_ticket(number: Number, _: Staff, session: Session) -> TicketDetail:
        ticket = await store.get_ticket(session, number)
        if ticket is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ticket number {number}")
        messages = await store.messages_of(session, number)
        attachments = await store.attachments_of(session, [m["id"] for m in messages])
        return TicketDetail.assemble(ticket, messages, attachments)

    @router.get("/tickets/{number}/attachments/{attachment_id}", tags=["tickets"],
                summary="Download an attachment's content", response_class=Response,
                responses={200: {"content": {"application/octet-stream": {}}},
                           404: {"description": "No such attachment on this ticket, or its content is gone"}})
    async def download_attachment(
        number: Number, attachment_id: uuid.UUID, _: Staff, session: Session
    ) -> Response:
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

    return router
