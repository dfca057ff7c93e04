"""A cap on every request body the portal reads: articles are at most 100,000 characters, everything else a
few hundred bytes, and FastAPI would otherwise buffer a body of any size before validating it.

The customer's reply with files (``/account/requests/{number}/reply``) has a cap of its own, the files' limits
(``upload_paths`` and ``upload_max_bytes``). A declared ``Content-Length`` over the cap is refused at once; a body streamed without one is counted as it
arrives and refused as soon as it passes the cap (FastAPI answers the ``HTTPException`` raised while it reads).
"""

from __future__ import annotations

import re

from fastapi import HTTPException, status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: An article of 100,000 characters of Cyrillic is 200 KB of UTF-8, 600 KB if its JSON escapes every one.
MAX_BODY_BYTES = 1024 * 1024
_TOO_LARGE = "request body too large"


class BodyCap:
    """ASGI middleware: 413 for a body over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, *, upload_paths: re.Pattern[str] | None = None,
                 upload_max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_paths = upload_paths
        self.upload_max_bytes = upload_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        uploads = self.upload_paths is not None and self.upload_paths.fullmatch(scope["path"]) is not None
        cap = self.upload_max_bytes if uploads else self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > cap:
            await JSONResponse({"detail": _TOO_LARGE}, status.HTTP_413_CONTENT_TOO_LARGE)(
                scope, receive, send
            )
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, _TOO_LARGE)
            return message

        await self.app(scope, counted, send)
