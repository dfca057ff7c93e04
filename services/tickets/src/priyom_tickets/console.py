"""The agent console: one static page, its script and its style sheet, served by tickets itself.

Served from the API's own origin, the page needs no CORS and its script calls the same ``/api/v1`` routes an
integrator does, with the agent's bearer token (kept in the tab's sessionStorage, gone when the tab closes).
There is no build step and no third-party script: the files under ``static/`` are what the browser runs.

The Content-Security-Policy allows only this origin's script and style, no inline code and no plugins, so a
customer's text that slipped past the script's escaping still could not run; the script itself only ever
puts data into the page as text (``textContent``), never as markup.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Staff alias below at route definition.
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import Me
from priyom_kit import Principal, Role, require_roles
from priyom_kit.db import Database

from .access import SEES_ALL, staff_of
from .tables import staff

STATIC = Path(__file__).with_name("static")

#: The files the console is made of, and what each is. Nothing else under ``static/`` is served.
ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}

#: Only this origin's files run; ``connect-src 'self'`` covers the API and the same-origin ``/ws/agent``
#: socket (CSP level 3 lets 'self' match ws: and wss: on the page's host).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def make_router(database: Database) -> APIRouter:
    router = APIRouter()
    Staff = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR))]
    Session = Annotated[AsyncSession, Depends(database.session)]
    page = (STATIC / "console.html").read_bytes()
    assets = {name: (STATIC / name).read_bytes() for name in ASSETS}

    @router.get("/console", tags=["console"], summary="The agent console (HTML; log in with a token)",
                response_class=Response, responses={200: {"content": {"text/html": {}}}})
    async def console_page() -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=HEADERS)

    @router.get("/console/{asset}", tags=["console"], include_in_schema=False)
    async def console_asset(asset: str) -> Response:
        if asset not in assets:
            raise HTTPException(404, "no such file")
        return Response(assets[asset], media_type=ASSETS[asset], headers=HEADERS)

    @router.get("/api/v1/me", tags=["staff"], summary="The caller: name, role, teams and phone extension")
    async def me(who: Staff, session: Session) -> Me:
        viewer = staff_of(who)
        extension = (await session.execute(select(staff.c.extension).where(staff.c.name == viewer.name))
                     ).scalar_one_or_none()
        return Me(name=viewer.name, role=viewer.staff_role, teams=sorted(viewer.teams),
                  sees_all=viewer.staff_role in SEES_ALL, extension=extension)

    return router
