"""``POST /telegram/webhook``: verified, size-capped, and answered 200 only after the update is handled.

Telegram re-sends an update until it gets a 2xx, so a 503 here (broker down, publish not confirmed) is
how nothing is lost. The secret is compared in constant time; a missing or wrong one is a 401 and the
body is not even read.
"""

from __future__ import annotations

import json
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from priyom_kit import get_logger
from priyom_kit.adapters.http import read_capped

from .receiver import UpdateReceiver

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
log = get_logger("priyom.intake-messenger.telegram")


def webhook_router(receiver: UpdateReceiver, secret: str, max_bytes: int) -> APIRouter:
    router = APIRouter(tags=["telegram"])
    expected = secret.encode()

    @router.post("/telegram/webhook", summary="Telegram Bot API webhook (secret_token verified)")
    async def telegram_webhook(request: Request) -> JSONResponse:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secrets.compare_digest(given, expected):
            return JSONResponse({"detail": "wrong secret token"}, status_code=401)
        body = await read_capped(request, max_bytes)
        if body is None:
            return JSONResponse({"detail": f"body over {max_bytes} bytes"}, status_code=413)
        try:
            update = json.loads(body)
            update_id = int(update["update_id"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"detail": "not a Bot API update"}, status_code=400)
        try:
            await receiver.handle(update)
        except Exception as exc:  # noqa: BLE001 - any failure: Telegram must re-send the update
            log.warning("webhook update not confirmed", update_id=update_id, error=type(exc).__name__)
            return JSONResponse({"detail": "not registered yet, send again"}, status_code=503)
        return JSONResponse({})

    return router

