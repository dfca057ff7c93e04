"""CORS for the public routes only.

The web form, served from intake-web's origin, polls tickets' ``/api/v1/contacts/{id}/ticket`` and asks the
portal for knowledge-base articles while the customer types, from the customer's browser. Only the public
routes are opened to those origins, without credentials and with no header but ``Content-Type``: the
authenticated routes stay same-origin, so a page elsewhere cannot make an agent's browser send its token.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class PublicPathCORS:
    """Starlette's CORS middleware, applied to requests under ``prefix`` and to nothing else."""

    def __init__(self, app: ASGIApp, *, prefix: str, origins: Sequence[str]) -> None:
        self.app = app
        self.prefix = prefix
        self.cors = CORSMiddleware(app, allow_origins=list(origins), allow_methods=["GET", "POST"],
                                   allow_headers=["Content-Type"],
                                   allow_credentials=False, max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
