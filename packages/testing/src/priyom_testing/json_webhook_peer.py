"""The far end of the JSON webhook channel: a chat bridge that receives Priyom's signed replies.

It checks the ``X-Priyom-Signature`` HMAC like a real peer must, answers ``{"message_id": …}``, refuses
recipients it does not know (410 Gone) and can be told to answer 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ._server import serve_locally


@dataclass
class JsonWebhookPeer:
    secret: bytes
    gone: set[str] = field(default_factory=set)
    received: list[dict[str, Any]] = field(default_factory=list)
    throttle: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> JsonWebhookPeer:
        app = web.Application()
        app.router.add_post("/replies", self._reply)
        self._runner, base_url = await serve_locally(app)
        self.url = f"{base_url}/replies"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def texts(self) -> list[str]:
        return [r["text"] for r in self.received]

    async def _reply(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Priyom-Signature", "")):
            return web.json_response({"error": "bad signature"}, status=401)
        if self.throttle:
            return web.json_response({"error": "slow down"}, status=429,
                                     headers={"Retry-After": str(self.throttle.pop(0))})
        reply = json.loads(body)
        if reply["recipient"]["id"] in self.gone:
            return web.json_response({"error": "recipient gone"}, status=410)
        self.received.append(reply)
        return web.json_response({"message_id": f"peer-{next(self._ids)}"})
