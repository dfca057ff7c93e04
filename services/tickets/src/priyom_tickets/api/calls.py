"""``POST /api/v1/calls``: click-to-call from the console, through intake-telephony.

The console only ever talks to its own origin (its Content-Security-Policy allows nothing else), so tickets
passes the call on: the agent's extension is read from their staff account, and the agent's own token goes with
the request, so intake-telephony checks, as for any caller, that an agent rings from their own extension only.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
import httpx
from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from priyom_kit import get_logger

from .. import staff as accounts
from .deps import Parts, Session, Staff

router = APIRouter(prefix="/api/v1", tags=["calls"])
log = get_logger("priyom.tickets.calls")

#: Telephony's own refusals the console can act on, passed on as they are; anything else is a 502.
PASSED_ON = frozenset({403, 422, 502, 503})


class CallRequest(BaseModel):
    number: str = Field(min_length=2, max_length=40, description="The number to call (spaces and dashes allowed)")
    ticket_number: str | None = Field(default=None, max_length=32, description="The ticket it is about, if any")


class CallStarted(BaseModel):
    extension: str = Field(description="The agent's extension, rung first; the number is dialled once they pick up")
    action_id: str = Field(description="The PBX action's id (intake-telephony's log names it)")


@router.post("/calls", status_code=status.HTTP_202_ACCEPTED,
             summary="Click-to-call: ring the caller's own extension, then dial the number (through intake-telephony)",
             responses={409: {"description": "The caller's staff account has no extension"},
                        503: {"description": "Click-to-call is not configured, or intake-telephony is unreachable"}})
async def call_out(body: CallRequest, who: Staff, session: Session, parts: Parts, request: Request) -> CallStarted:
    if parts.telephony is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "click-to-call is not configured "
                            "(TICKETS_TELEPHONY_URL is unset)")
    extension = await accounts.extension_of(session, who.name)
    if extension is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "your staff account has no phone extension: an admin sets it")
    try:
        answer = await parts.telephony.post("/api/v1/calls", headers={"Authorization": request.headers["authorization"]},
                                            json={"extension": extension, **body.model_dump(exclude_none=True)})
    except httpx.HTTPError as exc:
        log.warning("intake-telephony unreachable for click-to-call", error=type(exc).__name__)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "intake-telephony is unreachable") from None
    if answer.status_code == status.HTTP_202_ACCEPTED:
        return CallStarted(extension=extension, action_id=answer.json()["action_id"])
    try:
        detail = str(answer.json().get("detail", ""))[:300]
    except ValueError:
        detail = ""
    code = answer.status_code if answer.status_code in PASSED_ON else status.HTTP_502_BAD_GATEWAY
    raise HTTPException(code, detail or f"intake-telephony answered {answer.status_code}")
