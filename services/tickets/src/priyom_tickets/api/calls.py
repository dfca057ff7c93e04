"""``POST /api/v1/calls``: click-to-call from the console, through intake-telephony; and
``POST /api/v1/calls/{call_id}/ticket``: from a pop-up, the ticket a call in progress is about, or its ticket
opened at once (intake-telephony's ``call_ticket.py`` says what each does).

The console only ever talks to its own origin (its Content-Security-Policy allows nothing else), so tickets
passes the call on: the agent's extension is read from their staff account, and the agent's own token goes with
the request, so intake-telephony checks, as for any caller, that an agent rings from their own extension only.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
import uuid

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field, model_validator

from priyom_kit import HttpClient

from .. import staff as accounts
from .agent_forward import forward
from .deps import ApiParts, Parts, Session, Staff, ticket_or_404

router = APIRouter(prefix="/api/v1", tags=["calls"])
TELEPHONY = "intake-telephony"

#: Telephony's own refusals the console can act on, passed on as they are; anything else is a 502.
PASSED_ON = frozenset({403, 422, 502, 503})


class CallRequest(BaseModel):
    number: str = Field(min_length=2, max_length=40, description="The number to call (spaces and dashes allowed)")
    ticket_number: str | None = Field(default=None, max_length=32, description="The ticket it is about, if any")


class CallStarted(BaseModel):
    extension: str = Field(description="The agent's extension, rung first; the number is dialled once they pick up")
    action_id: str = Field(description="The PBX action's id (intake-telephony's log names it)")


class TicketForCall(BaseModel):
    number: str | None = Field(default=None, max_length=32, description="The caller's ticket the call is about")
    new: bool = Field(default=False, description="Open the call's ticket now")

    @model_validator(mode="after")
    def _one_of(self) -> "TicketForCall":
        if (self.number is None) == (not self.new):
            raise ValueError("give either number or new: true")
        return self


class CallTicket(BaseModel):
    call_id: str
    ticket_number: str | None = Field(default=None, description="The ticket the call's contact will join")
    contact_id: uuid.UUID | None = Field(
        default=None, description="With new: the contact opened now; GET /api/v1/contacts/{id}/ticket gives its "
        "ticket once it is registered")


@router.post("/calls/{call_id}/ticket", summary="From a pop-up: the ticket a call in progress is about, or open "
             "its ticket now (through intake-telephony)",
             responses={404: {"description": "No such ticket, or no call in progress has this id"},
                        409: {"description": "No extension on the account, or the call is over"},
                        503: {"description": "Telephony is not configured, or intake-telephony is unreachable"}})
async def ticket_for_call(call_id: str, body: TicketForCall, who: Staff, session: Session, parts: Parts,
                          request: Request) -> CallTicket:
    if body.number is not None:
        await ticket_or_404(session, parts, body.number, who)
    telephony, extension = await _telephony_and_extension(session, parts, who.name)
    answer = await forward(telephony, TELEPHONY, request, "POST", f"/api/v1/calls/{call_id}/ticket",
                           json={"extension": extension, **body.model_dump(exclude_none=True, exclude_defaults=True)},
                           passed_on=PASSED_ON | {404, 409})
    return CallTicket.model_validate(answer.json())


@router.post("/calls", status_code=status.HTTP_202_ACCEPTED,
             summary="Click-to-call: ring the caller's own extension, then dial the number (through intake-telephony)",
             responses={409: {"description": "The caller's staff account has no extension"},
                        503: {"description": "Click-to-call is not configured, or intake-telephony is unreachable"}})
async def call_out(body: CallRequest, who: Staff, session: Session, parts: Parts, request: Request) -> CallStarted:
    telephony, extension = await _telephony_and_extension(session, parts, who.name)
    answer = await forward(telephony, TELEPHONY, request, "POST", "/api/v1/calls",
                           json={"extension": extension, **body.model_dump(exclude_none=True)}, passed_on=PASSED_ON)
    return CallStarted(extension=extension, action_id=answer.json()["action_id"])


async def _telephony_and_extension(session: Session, parts: ApiParts, name: str) -> tuple[HttpClient, str]:
    """intake-telephony's client and the caller's extension, or why a call cannot go through."""
    if parts.telephony is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "telephony is not configured "
                            "(TICKETS_TELEPHONY_URL is unset)")
    extension = await accounts.extension_of(session, name)
    if extension is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "your staff account has no phone extension: an admin sets it")
    return parts.telephony, extension

