"""HTTP routes: the public form page and the contact submission API. Thin: checks live in :mod:`.form`,
the event in :mod:`.intake`.

The submission route reads the body itself (one route serves JSON, multipart and urlencoded), so the total
size is enforced while reading, before anything is parsed, stored or published.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import UploadFile
from starlette.types import Message

from priyom_contracts import AttachmentRef, utcnow
from priyom_kit import Publish, get_logger
from priyom_kit.adapters.http import read_capped
from priyom_kit.blobs import BlobStore

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
from .settings import IntakeWebSettings

log = get_logger("priyom.intake_web")

_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _request_body_doc() -> dict[str, Any]:
    schema = ContactForm.model_json_schema()
    multipart = json.loads(json.dumps(schema))
    multipart["properties"]["attachments"] = {"type": "array",
                                              "items": {"type": "string", "format": "binary"}}
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema},
        "multipart/form-data": {"schema": multipart},
    }}}


def contacts_router(settings: IntakeWebSettings, publish: Publish, blobs: BlobStore, page: str) -> APIRouter:
    """The form page and ``POST /api/v1/contacts``; ``publish`` returns once the broker confirmed."""
    router = APIRouter()
    limits = Limits(settings.max_message_chars, settings.max_attachments, settings.max_attachment_bytes,
                    settings.require_consent)
    tickets_url = settings.tickets_public_url.rstrip("/")

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def form_page() -> HTMLResponse:
        return HTMLResponse(page)

    @router.post(
        "/api/v1/contacts",
        status_code=status.HTTP_202_ACCEPTED,
        tags=["contacts"],
        summary="Register a contact from the web form (JSON, or multipart with attachments)",
        openapi_extra=_request_body_doc(),
        responses={422: {"description": "Invalid fields, one entry per field"},
                   413: {"description": "Request body too large"},
                   503: {"description": "The bus did not confirm; retry with the same Idempotency-Key"}},
    )
    async def submit_contact(request: Request) -> JSONResponse:
        try:
            contact_id, idempotency_key = identify(request.headers.get("idempotency-key"))
        except BadIdempotencyKey as exc:
            raise RequestValidationError([{"type": "value_error", "loc": ["header", "Idempotency-Key"],
                                           "msg": str(exc)}]) from None
        body = await read_capped(request, settings.max_request_bytes)  # the webhook channels' reader
        if body is None:
            return JSONResponse({"detail": f"request body is larger than {settings.max_request_bytes} bytes"},
                                status_code=status.HTTP_413_CONTENT_TOO_LARGE)
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        uploads: list[UploadFile] = []
        if content_type == "application/json" or content_type.endswith("+json"):
            try:
                fields: Any = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise RequestValidationError([{"type": "json_invalid", "loc": ["body"],
                                               "msg": "the body is not valid JSON"}]) from None
        elif content_type in _FORM_TYPES:
            form_data = await _replayed(request, body).form(max_files=1000, max_fields=1000)
            fields = {k: v for k, v in form_data.multi_items() if isinstance(v, str)}
            uploads = [u for u in form_data.getlist("attachments")
                       if isinstance(u, UploadFile) and (u.filename or u.size)]
        else:
            return JSONResponse({"detail": "send application/json or multipart/form-data"},
                                status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)

        form = _validated(fields, [u.size or 0 for u in uploads], limits)
        attachments = [await _store(upload, blobs) for upload in uploads]
        event = contact_received(form, attachments, contact_id=contact_id, idempotency_key=idempotency_key,
                                 received_at=utcnow())
        try:
            await publish(event)  # the kit bounds the wait for the confirm (PRIYOM_PUBLISH_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - any failure to get a confirm means "not registered"
            log.error("publish failed", contact_id=str(contact_id), error=type(exc).__name__)
            return JSONResponse(
                {"detail": "the contact could not be registered now; retry with the same Idempotency-Key"},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"},
            )
        log.info("contact registered", contact_id=str(contact_id), attachments=len(attachments),
                 client_key="Idempotency-Key" in request.headers)
        status_url = f"{tickets_url}/api/v1/contacts/{contact_id}/ticket"
        return JSONResponse({"contact_id": str(contact_id), "status_url": status_url},
                            status_code=status.HTTP_202_ACCEPTED)

    return router


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


def _replayed(request: Request, body: bytes) -> Request:
    """The same request with its (already size-checked) body, for starlette's form parser."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


async def _store(upload: UploadFile, blobs: BlobStore) -> AttachmentRef:
    data = await upload.read()
    key = await blobs.put(data)
    return AttachmentRef(blob_key=key, filename=safe_filename(upload.filename),
                         content_type=safe_content_type(upload.content_type), size=len(data))
