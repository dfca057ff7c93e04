"""HTTP routes: the public form page, its challenge and the contact submission API. Thin: field checks live
in :mod:`.form`, the event in :mod:`.intake`, each guard in its own module.

A submission passes the guards cheapest first, so a flood is turned away before it costs anything: the page's
origin (403), the sender's address rate (429), the cap on submissions at once (503), then the body read
while streaming under its size cap (413), the honeypot (a quiet 202), the fields (422), the challenge (403),
the rate per e-mail and phone (429); only then are files stored and the event published.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import Counter
from pydantic import SecretStr
from starlette.datastructures import UploadFile

from priyom_contracts import AttachmentRef, utcnow
from priyom_kit import Publish, get_logger
from priyom_kit.blobs import BlobStore, store_stream
from priyom_kit.gate import Gate
from priyom_kit.public_links import KEY_PARAM, link_key

from . import honeypot
from .body import BodyNotJson, BodyTooLarge, UnsupportedBody, read_submission
from .challenge import FIELD as CHALLENGE_FIELD
from .challenge import Challenge
from .form import (
    ContactForm,
    FieldError,
    FormInvalid,
    Limits,
    check_attachments,
    safe_content_type,
    safe_filename,
    validate_fields,
)
from .intake import BadIdempotencyKey, contact_received, identify
from .origins import OriginPolicy
from .rate_limits import Refused, SubmissionLimits, identifier_keys
from .security_headers import COMMON, page_headers
from .settings import IntakeWebSettings

log = get_logger("priyom.intake_web")


def _request_body_doc() -> dict[str, Any]:
    schema = ContactForm.model_json_schema()
    multipart = json.loads(json.dumps(schema))
    multipart["properties"]["attachments"] = {"type": "array",
                                              "items": {"type": "string", "format": "binary"}}
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema},
        "multipart/form-data": {"schema": multipart},
    }}}


@dataclass(frozen=True)
class Guards:
    """What stands between the public and the bus; built in :mod:`.app`, passed in here."""

    origins: OriginPolicy
    limits: SubmissionLimits
    gate: Gate  # submissions at once: past it 503 at once, not a queue (uploads hold spooled files)
    challenge: Challenge
    refused: Counter  # priyom_web_refused_total{reason}


def contacts_router(settings: IntakeWebSettings, publish: Publish, blobs: BlobStore, page: str,
                    guards: Guards) -> APIRouter:
    """The form page, ``GET /api/v1/challenge`` and ``POST /api/v1/contacts``; ``publish`` returns once the
    broker confirmed."""
    router = APIRouter()
    limits = Limits(settings.max_message_chars, settings.max_attachments, settings.max_attachment_bytes,
                    settings.require_consent)
    tickets_url = settings.tickets_public_url.rstrip("/")
    link_secret = settings.public_link_secret
    headers = page_headers(page, tickets_url, settings.frame_ancestors, settings.kb_url)

    def refuse(reason: str, status_code: int, detail: str, retry_after: int | None = None) -> JSONResponse:
        guards.refused.labels(reason).inc()
        extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return JSONResponse({"detail": detail}, status_code=status_code, headers={**COMMON, **extra})

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def form_page() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    @router.get("/api/v1/challenge", tags=["contacts"],
                summary="A bot check to pass with the next submission (see the challenge field)")
    async def new_challenge(request: Request) -> JSONResponse:
        return JSONResponse(guards.challenge.issue(), headers={
            **COMMON, "Cache-Control": "no-store", **guards.origins.cors(request.headers)})

    @router.options("/api/v1/challenge", include_in_schema=False)
    @router.options("/api/v1/contacts", include_in_schema=False)
    async def preflight(request: Request) -> Response:
        return Response(status_code=204, headers={**COMMON, **guards.origins.preflight(request.headers)})

    @router.post(
        "/api/v1/contacts",
        status_code=status.HTTP_202_ACCEPTED,
        tags=["contacts"],
        summary="Register a contact from the web form (JSON, or multipart with attachments)",
        openapi_extra=_request_body_doc(),
        responses={422: {"description": "Invalid fields, one entry per field"},
                   403: {"description": "Another website's page, or the challenge missing or wrong"},
                   413: {"description": "Request body too large"},
                   429: {"description": "Too many submissions from this address or for this e-mail or phone"},
                   503: {"description": "Busy, or the bus did not confirm; retry with the same Idempotency-Key"}},
    )
    async def submit_contact(request: Request) -> Response:
        try:
            response: Response = await guarded_submit(request)
        except RequestValidationError as exc:  # answered here, so a configured origin's page can read it
            response = await request_validation_exception_handler(request, exc)
        response.headers.update(guards.origins.cors(request.headers))
        return response

    async def over_limit(check: Awaitable[Refused | None], reason: str, detail: str) -> JSONResponse | None:
        try:
            over = await check
        except Exception as exc:  # noqa: BLE001 - a limiter that cannot count must not open the gate
            log.error("rate limit storage failed", error=type(exc).__name__)
            return refuse("limiter_down", 503, "the form is unavailable now; retry in a minute", 30)
        return refuse(reason, 429, detail, over.retry_after_s) if over is not None else None

    async def guarded_submit(request: Request) -> JSONResponse:
        if not guards.origins.allows(request.headers):
            return refuse("origin", 403, "this page may not send the form")
        address = request.client.host if request.client else "unknown"
        if refused := await over_limit(guards.limits.check_address(address), "rate_address",
                                       "too many submissions from this address"):
            return refused
        if not guards.gate.enter():
            return refuse("busy", 503, "too many submissions at once; retry with the same Idempotency-Key", 1)
        try:
            return await submit(request)
        finally:
            guards.gate.leave()

    async def submit(request: Request) -> JSONResponse:
        try:
            contact_id, idempotency_key = identify(request.headers.get("idempotency-key"))
        except BadIdempotencyKey as exc:
            raise RequestValidationError([{"type": "value_error", "loc": ["header", "Idempotency-Key"],
                                           "msg": str(exc)}]) from None
        try:
            fields, uploads = await read_submission(request, settings.max_request_bytes)
        except BodyTooLarge:
            return refuse("too_large", 413, f"request body is larger than {settings.max_request_bytes} bytes")
        except UnsupportedBody:
            return refuse("media_type", 415, "send application/json or multipart/form-data")
        except BodyNotJson:
            raise RequestValidationError([{"type": "json_invalid", "loc": ["body"],
                                           "msg": "the body is not valid JSON"}]) from None
        try:
            if honeypot.caught(fields):
                guards.refused.labels("honeypot").inc()
                return _accepted(uuid.uuid4(), tickets_url, link_secret)  # looks accepted; nothing stored or published
            form = _validated(fields, [u.size or 0 for u in uploads], limits)
            if not await guards.challenge.verify(_solution(fields)):
                return refuse("challenge", 403, "the challenge is missing, wrong or used: get a new one at "
                                                "/api/v1/challenge")
            if refused := await over_limit(guards.limits.check_identifiers(identifier_keys(form.email, form.phone)),
                                           "rate_identifier", "too many submissions for this e-mail or phone"):
                return refused
            attachments = [await _store(upload, blobs, settings) for upload in uploads]
        finally:
            for upload in uploads:
                await upload.close()  # removes the spooled file
        event = contact_received(form, attachments, contact_id=contact_id, idempotency_key=idempotency_key,
                                 received_at=utcnow())
        try:
            await publish(event)  # the kit bounds the wait for the confirm (PRIYOM_PUBLISH_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - any failure to get a confirm means "not registered"
            log.error("publish failed", contact_id=str(contact_id), error=type(exc).__name__)
            return JSONResponse(
                {"detail": "the contact could not be registered now; retry with the same Idempotency-Key"},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE, headers={**COMMON, "Retry-After": "5"},
            )
        log.info("contact registered", contact_id=str(contact_id), attachments=len(attachments),
                 client_key="Idempotency-Key" in request.headers)
        return _accepted(contact_id, tickets_url, link_secret)

    return router


def _accepted(contact_id: uuid.UUID, tickets_url: str, link_secret: SecretStr | None) -> JSONResponse:
    """202 with the contact id and, when public links are on, the status link only this submitter holds (its
    key is an HMAC of the contact id: a predictable id alone opens nothing)."""
    status_url = None
    if link_secret is not None:
        key = link_key(link_secret, contact_id)
        status_url = f"{tickets_url}/api/v1/contacts/{contact_id}/ticket?{KEY_PARAM}={key}"
    return JSONResponse({"contact_id": str(contact_id), "status_url": status_url},
                        status_code=status.HTTP_202_ACCEPTED, headers=COMMON)


def _solution(fields: Any) -> str | None:
    value = fields.get(CHALLENGE_FIELD) if isinstance(fields, dict) else None
    return value if isinstance(value, str) else None


def _validated(fields: Any, sizes: list[int], limits: Limits) -> ContactForm:
    """All field and attachment errors at once, as one 422."""
    errors: list[FieldError] = []
    form: ContactForm | None = None
    try:
        form = validate_fields(fields, limits)
    except FormInvalid as exc:
        errors += exc.errors
    try:
        check_attachments(sizes, limits)
    except FormInvalid as exc:
        errors += exc.errors
    if errors or form is None:
        raise RequestValidationError(errors)
    return form


async def _store(upload: UploadFile, blobs: BlobStore, settings: IntakeWebSettings) -> AttachmentRef:
    """Streamed from the spooled upload into the store; its size was checked while parsing."""
    kept = await store_stream(blobs, settings.blob_dir, upload.read, settings.max_attachment_bytes)
    return AttachmentRef(blob_key=kept.key, filename=safe_filename(upload.filename),
                         content_type=safe_content_type(upload.content_type), size=kept.size)
