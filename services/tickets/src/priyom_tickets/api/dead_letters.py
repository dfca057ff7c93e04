"""Dead letters for admins: list them (a safe preview, never the body), replay them after a fix, discard them
with a reason. Every route is admin-only: a dead letter may hold anything a customer sent.

The routes are thin; what replay and discard mean is in :mod:`priyom_tickets.dead_letters`.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.engine import RowMapping

from priyom_kit import get_logger
from priyom_kit.logging import mask_pii

from ..dead_letters import DeadLetterDesk, Filters, LetterState, Outcome, Result
from .deps import Admin

log = get_logger("priyom.tickets.api.dead_letters")
router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"])


def desk_of(request: Request) -> DeadLetterDesk:
    return request.app.state.dead_letters


Desk = Annotated[DeadLetterDesk, Depends(desk_of)]
LetterId = Annotated[int, Field(ge=1)]


class DeadLetter(BaseModel):
    """One dead letter as the list shows it: what failed where, when and why, and a masked preview."""

    id: int
    state: LetterState
    failed_at: datetime
    kept_at: datetime
    service: str | None = Field(description="The service that gave up (x-failed-by)")
    source: str = Field(description="The queue it failed in, or the intake's source (smtp, imap:<box>, telegram)")
    channel: str | None
    routing_key: str | None
    message_type: str | None
    message_id: str | None
    error_kind: str | None = Field(description="permanent, attempts-exhausted, or broker")
    reason: str = Field(description="Why it failed (x-error), e-mail addresses and phone numbers masked")
    attempts: int | None
    preview: str = Field(description="A short look at the body, e-mail addresses and phone numbers masked")
    replayable: bool
    not_replayable_reason: str | None
    handled_by: str | None = Field(description="Who replayed or discarded it")
    handled_at: datetime | None
    handled_note: str | None = Field(description="The discard's reason, or the replay's note")


class DeadLetterPage(BaseModel):
    total: int
    items: list[DeadLetter]


class ReplayRequest(BaseModel):
    ids: list[LetterId] = Field(min_length=1, max_length=500)
    note: str | None = Field(default=None, max_length=2000, description="What was fixed, for the audit line")


class ReplayOne(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class DiscardRequest(BaseModel):
    ids: list[LetterId] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=3, max_length=2000, description="Why it is discarded, for the audit line")


class DiscardOne(BaseModel):
    reason: str = Field(min_length=3, max_length=2000)


class LetterOutcome(BaseModel):
    id: int
    outcome: Outcome
    detail: str | None = None


class Outcomes(BaseModel):
    results: list[LetterOutcome]


def view(row: RowMapping) -> DeadLetter:
    """The row as listed; the reason masked too (a validation error quotes the values it refused)."""
    stored = {name: row[name] for name in DeadLetter.model_fields if name in row}
    return DeadLetter(**stored | {"reason": mask_pii(row["reason"]), "replayable": row["not_replayable"] is None,
                                  "not_replayable_reason": row["not_replayable"]})


@router.get("", summary="Dead letters, newest failure first (admin)")
async def list_dead_letters(
    _: Admin, desk: Desk,
    state: Literal["waiting", "replayed", "discarded", "all"] = "waiting",
    service: Annotated[str | None, Query(max_length=64)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    source: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeadLetterPage:
    filters = Filters(state=None if state == "all" else LetterState(state), service=service, channel=channel,
                      source=source)
    total, rows = await desk.page(filters, limit=limit, offset=offset)
    return DeadLetterPage(total=total, items=[view(row) for row in rows])


@router.get("/{letter_id}", summary="One dead letter (admin)")
async def get_dead_letter(letter_id: int, _: Admin, desk: Desk) -> DeadLetter:
    row = await desk.get(letter_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no dead letter {letter_id}")
    return view(row)


@router.get("/{letter_id}/body", summary="One dead letter's body as it arrived, as a download (admin)",
            response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}, 404: {}})
async def dead_letter_body(letter_id: int, who: Admin, desk: Desk) -> Response:
    """For what cannot be replayed: a mail saved as ``.eml`` can be re-sent to the SMTP endpoint once the
    cause is fixed. Always a download, never shown inline: the body may be any markup a sender chose."""
    found = await desk.body(letter_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no dead letter {letter_id}")
    body, content_type = found
    log.info("dead letter body downloaded", id=letter_id, by=who.name)
    extension = "eml" if (content_type or "").startswith("message/") else "bin"
    return Response(body, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="dead-letter-{letter_id}.{extension}"',
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "no-store"})


@router.post("/replay", summary="Replay several dead letters after a fix (admin)")
async def replay_many(request: ReplayRequest, who: Admin, desk: Desk) -> Outcomes:
    """Each letter is replayed on its own; the answer says what became of each."""
    return _outcomes(await desk.replay(request.ids, who=who.name, note=request.note))


@router.post("/discard", summary="Discard several dead letters, saying why (admin)")
async def discard_many(request: DiscardRequest, who: Admin, desk: Desk) -> Outcomes:
    return _outcomes(await desk.discard(request.ids, who=who.name, reason=request.reason))


@router.post("/{letter_id}/replay", summary="Replay one dead letter after a fix (admin)",
             responses={404: {}, 409: {"description": "Not waiting, or not replayable"},
                        503: {"description": "The broker did not take it"}})
async def replay_one(letter_id: int, who: Admin, desk: Desk, request: ReplayOne | None = None) -> LetterOutcome:
    [result] = await desk.replay([letter_id], who=who.name, note=request.note if request else None)
    return _single(result)


@router.post("/{letter_id}/discard", summary="Discard one dead letter, saying why (admin)",
             responses={404: {}, 409: {"description": "Not waiting"}})
async def discard_one(letter_id: int, request: DiscardOne, who: Admin, desk: Desk) -> LetterOutcome:
    [result] = await desk.discard([letter_id], who=who.name, reason=request.reason)
    return _single(result)


#: The HTTP status of each outcome of a single-letter action.
STATUS = {Outcome.REPLAYED: 200, Outcome.DISCARDED: 200, Outcome.NOT_FOUND: 404, Outcome.NOT_WAITING: 409,
          Outcome.NOT_REPLAYABLE: 409, Outcome.PUBLISH_FAILED: 503}


def _single(result: Result) -> LetterOutcome:
    if STATUS[result.outcome] != 200:
        raise HTTPException(STATUS[result.outcome], result.detail or result.outcome.value)
    return LetterOutcome(id=result.id, outcome=result.outcome, detail=result.detail)


def _outcomes(results: list[Result]) -> Outcomes:
    return Outcomes(results=[LetterOutcome(id=r.id, outcome=r.outcome, detail=r.detail) for r in results])
