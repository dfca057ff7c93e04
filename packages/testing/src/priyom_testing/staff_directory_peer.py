"""Tickets' staff directory as another service sees it: ``GET /api/v1/staff/extensions`` answering the
``StaffExtension`` list to the one service credential it knows (403 to any other), for testing a service that
turns agents' names into extensions without starting tickets and its database."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from ._server import serve_locally


@dataclass
class StaffDirectoryPeer:
    token: str
    extensions: dict[str, str] = field(default_factory=dict)  # staff name -> extension
    reads: int = 0

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> StaffDirectoryPeer:
        app = web.Application()
        app.router.add_get("/api/v1/staff/extensions", self._extensions)
        self._runner, self.url = await serve_locally(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _extensions(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"detail": "requires one of: service"}, status=403)
        self.reads += 1
        return web.json_response([{"name": name, "extension": extension}
                                  for name, extension in sorted(self.extensions.items())])
