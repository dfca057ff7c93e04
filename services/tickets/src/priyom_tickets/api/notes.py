"""``/api/v1/tickets/{number}/notes`` and ``/api/v1/me/mentions``: what agents write each other about a ticket.

Notes are staff-only (see :mod:`priyom_tickets.notes`): the routes take staff roles, a note is written by whoever
may act on the ticket (its team's agents, supervisors) and read by whoever may see it. A mention also goes
at once to the mentioned agent's console socket when this process holds it; the console asks for its mentions
on login and every half minute too, so a socket on another instance, or none, loses nothing.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import AwareDatetime, BaseModel, Field

from priyom_contracts import utcnow

from .. import notes
from .. import staff as accounts
from .deps import ActableTicket, Parts, Session, Staff, ViewedTicket

router = APIRouter(tags=["notes"])

NoteText = Annotated[str, Field(min_length=1, max_length=20_000)]


class NoteRequest(BaseModel):
    body: NoteText = Field(description="The note; an @name of a staff account mentions them")


class NoteView(BaseModel):
    id: uuid.UUID
    author: str
    body: str
    mentions: list[str] = Field(description="The staff the note @mentions, each told in their console")
    created_at: AwareDatetime


class MentionView(BaseModel):
    id: uuid.UUID
    number: str = Field(description="The ticket the note is on")
    author: str
    body: str
    created_at: AwareDatetime


@router.post("/api/v1/tickets/{number}/notes", status_code=status.HTTP_201_CREATED,
             summary="Add an internal note (staff only: never sent to the customer nor shown to them)",
             responses={403: {"description": "The caller may read but not act on this ticket"},
                        404: {"description": "No ticket has this number"}})
async def add_note(body: NoteRequest, ticket: ActableTicket, who: Staff, session: Session,
                   parts: Parts) -> NoteView:
    note = await notes.add(session, ticket, author=who.name, body=body.body, now=utcnow())
    extensions = {name: await accounts.extension_of(session, name) for name in note.mentions}
    await session.commit()
    told = json.dumps({"type": "mention", "number": ticket["number"], "author": note.author}, ensure_ascii=False)
    for extension in filter(None, extensions.values()):
        await parts.consoles.tell(extension, told)
    return NoteView(id=note.id, author=note.author, body=note.body, mentions=note.mentions,
                    created_at=note.created_at)


@router.get("/api/v1/tickets/{number}/notes", summary="The ticket's internal notes, oldest first",
            responses={404: {"description": "No ticket has this number"}})
async def ticket_notes(ticket: ViewedTicket, session: Session) -> list[NoteView]:
    return [NoteView.model_validate(dict(row)) for row in await notes.of_ticket(session, ticket["seq"])]


@router.get("/api/v1/me/mentions", summary="Notes that mention the caller and that they have not marked seen")
async def my_mentions(who: Staff, session: Session) -> list[MentionView]:
    return [MentionView.model_validate(dict(row)) for row in await notes.unseen(session, who.name)]


@router.post("/api/v1/me/mentions/{mention_id}/seen", status_code=status.HTTP_204_NO_CONTENT,
             summary="The caller saw the mention: it leaves their list",
             responses={404: {"description": "No mention of the caller has this id"}})
async def mention_seen(mention_id: uuid.UUID, who: Staff, session: Session) -> None:
    if not await notes.mark_seen(session, who.name, mention_id, utcnow()):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such mention of yours")
    await session.commit()
