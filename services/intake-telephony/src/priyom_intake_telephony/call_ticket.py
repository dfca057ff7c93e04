"""``POST /api/v1/calls/{call_id}/ticket``: from the caller's pop-up, the agent says which ticket the call is
about, or opens its ticket at once.

A call becomes a contact only at hangup (its outcome, duration and recording are known then). An agent who
talks to the caller wants the ticket now, to write in during the call, or has just opened the caller's open
ticket from the pop-up. Either is kept on the call (its saved state, so a restart keeps it too), and the
contact at hangup then joins that ticket instead of opening another:

- ``{"number": ...}``: the contact names the ticket (``ThreadHint.ticket_number``); tickets joins it when the
  ticket is the same client's and still open, as for a customer who quotes a number.
- ``{"new": true}``: a contact for the call is published at once (its own idempotency key, the call's thread
  key), so identity, the router and tickets make its ticket like any other's; the contact at hangup carries
  the same thread key and becomes a follow-up on it. Asked twice, the same contact is answered.

Only the agent whose phone the call reached (or a supervisor) may do either.

Any replica answers. A CTI call is read from the database under the call's lock, as a CTI post is
(``api.py``); an AMI call lives in the tracker of the replica holding the PBX's session, so a standby hands
the request to it (:mod:`.holder_relay`) and gives its answer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field, model_validator

from priyom_kit import Principal, Role, get_logger, require_roles

from .bridge import CallBridge
from .call_journal import AMI, CTI, CallJournal, Source, open_cti_call
from .staff_auth import may_call_from
from .tracker.call import Call

log = get_logger("priyom.intake-telephony.call-ticket")

_NUMBER = re.compile(r"^\d{4}-\d{6,9}$")


class TicketForCall(BaseModel):
    extension: str = Field(min_length=1, max_length=32, description="The agent's extension the call reached")
    number: str | None = Field(default=None, max_length=32, description="The ticket the call is about")
    new: bool = Field(default=False, description="Open the call's ticket now")

    @model_validator(mode="after")
    def _one_of(self) -> TicketForCall:
        if (self.number is None) == (not self.new):
            raise ValueError("give either number or new: true")
        if self.number is not None and not _NUMBER.match(self.number):
            raise ValueError("number must look like 2026-000123")
        return self


class CallTicket(BaseModel):
    call_id: str
    ticket_number: str | None = Field(default=None, description="The ticket the call's contact will join")
    contact_id: uuid.UUID | None = Field(
        default=None, description="With new: the contact opened now (tickets' /api/v1/contacts/{id}/ticket "
        "gives its ticket once it is registered)")


def _reached(call: Call, extension: str) -> bool:
    return extension in call.agents or extension in call.rings or extension == call.originator


#: Asks the replica holding the PBX's session (None: this replica holds it, or there is no PBX).
AskHolder = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class CallTickets:
    """Links a call in progress to its ticket, on this replica: ``take_cti`` follows a CTI call as the
    database has it (:meth:`.cti.CtiCalls.take`)."""

    def __init__(self, journal: CallJournal, bridge: CallBridge, take_cti: Callable[[str, Call | None], None],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.journal = journal
        self.bridge = bridge
        self.take_cti = take_cti
        self.now = now

    async def link(self, call_id: str, body: TicketForCall) -> CallTicket | None:
        """The call's ticket as ``body`` asks; None when no call in progress here has ``call_id``. Raises
        HTTPException 403 (the call did not reach the extension) or 409 (it is over)."""
        async with self.journal.held(call_id) as stored:
            self.take_cti(call_id, open_cti_call(stored))
            for source in (AMI, CTI):
                call = self.journal.open_calls[source].get(call_id)
                if call is not None:
                    return await self._link(call, source, body)
        return None

    async def serve(self, request: dict[str, Any]) -> dict[str, Any]:
        """A standby's request, on the holder (:mod:`.holder_relay`): the answer, or the error's status."""
        try:
            ticket = await self.link(str(request["call_id"]), TicketForCall.model_validate(request["ticket"]))
        except HTTPException as exc:
            return {"status": exc.status_code, "detail": exc.detail}
        if ticket is None:
            return {"status": status.HTTP_404_NOT_FOUND, "detail": "no call in progress has this id"}
        return {"ticket": ticket.model_dump(mode="json")}

    async def _link(self, call: Call, source: Source, body: TicketForCall) -> CallTicket:
        if not _reached(call, body.extension):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "the call did not reach this extension")
        if call.ended_at is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, "the call is over: its contact is on its way")
        if body.number is not None:
            call.ticket_number = body.number
            await self.journal.save(call, source)
            log.info("call linked to a ticket", call_id=call.call_id, extension=body.extension)
            return CallTicket(call_id=call.call_id, ticket_number=body.number)
        opened = self.bridge.messages.opened_contact(call, body.extension, self.now())
        if not call.opened_early:
            call.opened_early = True
            await self.journal.open_early(call, source, opened)
            log.info("call's ticket opened during the call", call_id=call.call_id, extension=body.extension)
        return CallTicket(call_id=call.call_id, contact_id=opened.contact.contact_id)


def call_ticket_router(tickets: CallTickets, ask_holder: Callable[[], AskHolder | None] = lambda: None
                       ) -> APIRouter:
    """``ask_holder()`` says, per request, how to reach the PBX session's holder from here (None: it is
    this replica, or there is no PBX)."""
    router = APIRouter(prefix="/api/v1", tags=["calls"])

    @router.post("/calls/{call_id}/ticket", response_model=CallTicket,
                 summary="The ticket a call in progress is about, or open its ticket now",
                 responses={404: {"description": "No call in progress has this id"},
                            403: {"description": "The call did not reach this agent's extension"},
                            409: {"description": "The call is over: its contact is on its way"},
                            503: {"description": "The call is on the PBX, and no replica holds its session now"}})
    async def ticket_for_call(
        call_id: str, body: TicketForCall,
        principal: Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR))],
    ) -> CallTicket:
        if not may_call_from(principal, body.extension):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "the call did not reach this extension")
        ticket = await tickets.link(call_id, body)
        if ticket is not None:
            return ticket
        ask = ask_holder()
        if ask is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no call in progress has this id")
        try:
            answer = await ask({"call_id": call_id, "ticket": body.model_dump(mode="json")})
        except ConnectionError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
        if "ticket" not in answer:
            raise HTTPException(int(answer.get("status", 502)), str(answer.get("detail", answer)))
        return CallTicket.model_validate(answer["ticket"])

    return router
