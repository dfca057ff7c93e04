"""``POST /webhook/messages``: a signed message in, 202 once its contact is published with a confirm."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from priyom_kit import get_logger
from priyom_kit.adapters import ChannelEdge
from priyom_kit.adapters.http import read_capped

from .adapter import SIGNATURE_HEADER, JsonWebhookAdapter, signature_ok

log = get_logger("priyom.intake-messenger.webhook")


def json_webhook_router(edge: ChannelEdge, adapter: JsonWebhookAdapter, max_bytes: int) -> APIRouter:
    router = APIRouter(tags=["webhook channel"])

    @router.post("/webhook/messages", status_code=202, summary="A message from the JSON webhook channel")
    async def webhook_message(request: Request) -> JSONResponse:
        body = await read_capped(request, max_bytes)
        if body is None:
            return JSONResponse({"detail": f"body over {max_bytes} bytes"}, status_code=413)
        if not signature_ok(adapter.secret, body, request.headers.get(SIGNATURE_HEADER)):
            return JSONResponse({"detail": "bad or missing signature"}, status_code=401)
        try:
            contacts = adapter.normalise(json.loads(body))
        except (ValueError, ValidationError) as exc:
            errors = exc.errors(include_input=False) if isinstance(exc, ValidationError) else str(exc)
            return JSONResponse({"detail": errors}, status_code=422)
        try:
            events = [await edge.accept(contact) for contact in contacts]
        except Exception as exc:  # noqa: BLE001 - the sender must retry: 503, nothing was confirmed
            log.warning("webhook message not published", error=type(exc).__name__)
            return JSONResponse({"detail": "not registered yet, send again"}, status_code=503)
        return JSONResponse({"contact_ids": [str(e.contact.contact_id) for e in events]}, status_code=202)

    return router
