"""The correlation id on every log line: the contact's id on the bus, the request's id over HTTP.

On the bus every message of one contact carries the contact's id as its AMQP ``correlation_id`` (the kit's
one publish sets it from the event), so whatever a consumer logs while handling it can be found by that id
in every service's log. Over HTTP a caller's ``X-Request-ID`` or ``X-Correlation-ID`` is taken when it looks
like an id (a proxy's, a load balancer's), a new one is made otherwise, and the answer carries it back so a
user's complaint can be matched to the log. The id names no person: a UUID or the caller's opaque token.
"""

from __future__ import annotations

import re
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Incoming header names honoured, in order; the answer echoes the one that came (``X-Request-ID`` if none).
HEADERS = (b"x-correlation-id", b"x-request-id")
#: What an incoming id may be: no spaces, quotes or control characters to forge a log line with.
_VALID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


def request_correlation_id(headers: list[tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
    """``(header name, id)`` for a request: the caller's id when it is valid, else a new one."""
    given = dict(headers)
    for name in HEADERS:
        value = given.get(name)
        if value is not None and _VALID.fullmatch(value):
            return name, value
    return b"x-request-id", uuid.uuid4().hex.encode()


class HttpCorrelation:
    """ASGI middleware binding the request's correlation id for its log lines and echoing it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        name, value = request_correlation_id(scope.get("headers", []))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (name, value)]
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=value.decode()):
            await self.app(scope, receive, send_with_id)
