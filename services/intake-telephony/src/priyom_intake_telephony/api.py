"""HTTP routes, thin: click-to-call, the generic CTI webhook, and the AMI connection's state."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from pydantic import BaseModel, Field, SecretStr

from priyom_kit import Principal, Role, get_logger, require_roles

from .ami import AmiConnection, AmiState
from .bridge import CallBridge
from .call_journal import CTI, open_cti_call
from .channels import Extensions
from .cti import CtiCalls, CtiError, call_id_of, validate
from .cti_answer import CtiAnswers
from .staff_auth import may_call_from

log = get_logger("priyom.intake-telephony.api")

#: A CTI post is a handful of short fields; anything bigger is not one.
MAX_CTI_BYTES = 16 * 1024
_DIALLABLE = re.compile(r"^\+?[0-9]{2,20}$")
_SEPARATORS = re.compile(r"[\s\-().]")


class CallRequest(BaseModel):
    """Click-to-call: ring the agent's phone, then dial the number once they pick up."""

    extension: str = Field(min_length=1, max_length=32, description="The agent's extension, rung first")
    number: str = Field(min_length=2, max_length=40, description="The number to call (spaces and dashes allowed)")
    ticket_number: str | None = Field(default=None, max_length=32, description="The ticket it is about, if any")


class CallQueued(BaseModel):
    status: str = "queued"
    action_id: str


def calls_router(ami: AmiConnection | None, extensions: Extensions, *, context: str, channel_template: str,
                 timeout_s: int, send_action: Callable[[dict[str, str]], Awaitable[Any]] | None = None
                 ) -> APIRouter:
    """``send_action`` sends an AMI action on the PBX's session, this replica's or the lease holder's
    (:mod:`.holder_relay`); by default on ``ami``."""
    router = APIRouter(prefix="/api/v1", tags=["calls"])

    @router.post("/calls", status_code=status.HTTP_202_ACCEPTED, response_model=CallQueued,
                 summary="Click-to-call: AMI Originate, the agent's extension first, then the number")
    async def originate(
        body: CallRequest,
        principal: Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR))],
    ) -> CallQueued:
        if ami is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "AMI is not configured (AMI_HOST unset)")
        if not extensions.is_extension(body.extension):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "extension does not look like one")
        if not may_call_from(principal, body.extension):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "an agent calls out from their own extension only")
        number = _SEPARATORS.sub("", body.number)
        if not _DIALLABLE.match(number):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "number must be digits, optionally after +")
        action_id = f"priyom-originate-{secrets.token_hex(6)}"
        action = {"Action": "Originate", "ActionID": action_id,
                  "Channel": channel_template.format(extension=body.extension), "Context": context,
                  "Exten": number, "Priority": "1", "Timeout": str(timeout_s * 1000), "Async": "true",
                  "CallerID": f"\"Call {number}\" <{number}>"}
        try:
            response = await (send_action or ami.send_action)(action)
        except (ConnectionError, TimeoutError) as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"PBX unreachable: {exc}") from exc
        responses = response if isinstance(response, list) else [response]
        if not responses or str(responses[0].get("Response", "")).lower() != "success":
            message = str(responses[0].get("Message", "refused")) if responses else "no answer"
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"PBX refused the call: {message}"[:300])
        log.info("click-to-call queued", extension=body.extension, by=principal.name, action_id=action_id)
        return CallQueued(action_id=action_id)

    @router.get("/ami", summary="The AMI connection's state", tags=["operations"])
    async def ami_state() -> dict[str, Any]:
        if ami is None:
            return {"state": AmiState.DISABLED.value, "logins": 0}
        return {"state": ami.state.value, "logins": ami.logins}

    return router


def cti_router(secret: SecretStr | None, cti: CtiCalls, bridge: CallBridge, answers: CtiAnswers | None = None,
               now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> APIRouter:
    """``POST /api/v1/cti/{secret}`` or ``POST /api/v1/cti`` with ``X-CTI-Secret``: Zammad's generic CTI.

    The answer is 2xx only once what the post said is in the database (the call in progress, or the finished
    call's contact in the outbox): a PBX that got no answer posts again, and the repeat changes nothing. Its
    body is Zammad's (:mod:`.cti_answer`): a reject for a blocked caller, a caller id to dial out with, or
    ``{}``."""
    answers = answers or CtiAnswers()
    router = APIRouter(prefix="/api/v1", tags=["cti"])

    async def receive(request: Request, given: str | None) -> dict[str, Any]:
        if secret is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "the CTI webhook is off (INTAKE_TELEPHONY_CTI_SECRET)")
        if given is None or not secrets.compare_digest(given.encode(), secret.get_secret_value().encode()):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong CTI secret")
        params = await _params(request)
        try:
            validate(params)
        except CtiError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        answer = answers.answer(params)
        call_id = call_id_of(params) or ""
        # Any replica takes any post: the call as saved, and no other replica on it until this one is done.
        async with bridge.journal.held(call_id) as stored:
            cti.take(call_id, open_cti_call(stored))
            if answers.refuses(params) and call_id not in cti.calls:  # a call followed before goes on
                log.info("CTI post of a blocked caller left aside", call_id=call_id, answer=answer)
                return answer
            progress = cti.feed(params, now())
            bridge.handle(progress, cdr_wait_s=0.0, source=CTI)
            call = cti.calls.get(call_id)
            if call is not None:
                await bridge.journal.save(call, CTI)
            if progress:
                await bridge.settled(progress[0].call.call_id)
        return answer

    @router.post("/cti/{secret_in_path}", summary="CTI webhook (secret in the path)")
    async def cti_in_path(request: Request, secret_in_path: str) -> dict[str, Any]:
        return await receive(request, secret_in_path)

    @router.post("/cti", summary="CTI webhook (secret in the X-CTI-Secret header)")
    async def cti_in_header(request: Request,
                            x_cti_secret: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        return await receive(request, x_cti_secret)

    return router


async def _params(request: Request) -> dict[str, Any]:
    """The post's fields, JSON or form-encoded (repeated keys become lists), within the size limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_CTI_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "CTI post too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CTI_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "CTI post too large")
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(body or b"{}")
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "body is not JSON") from exc
        if not isinstance(data, dict):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "body must be a JSON object")
        return data
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=False)
    return {key: values if len(values) > 1 or key.endswith("[]") else values[0] for key, values in fields.items()}

