"""The agent console: one static page, its script and its style sheet, served by tickets itself; who the
caller is (``/api/v1/me``); and its live channel, ``/ws/agent``, where caller pop-ups arrive.

Served from the API's own origin, the page needs no CORS and its script calls the same ``/api/v1`` routes an
integrator does, with the agent's bearer token (kept in the tab's sessionStorage, gone when the tab closes).
There is no build step and no third-party script: the files under ``static/`` are what the browser runs.

The Content-Security-Policy allows only this origin's script and style, no inline code and no plugins, so a
customer's text that slipped past the script's escaping still could not run; the script itself only ever
puts data into the page as text (``textContent``), never as markup.

The socket authenticates before it is accepted and registered, so nothing reaches an unauthenticated console.
A refused console is still accepted and then closed at once with 4401 (bad token) or 4403 (not your
extension): a browser's WebSocket sees close codes, never the HTTP status of a refused handshake. An agent's
token opens only the extension on their staff record; an admin token (the environment's, or a staff admin's)
opens any, for supervisors' wallboards and for tests.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Response, WebSocket, WebSocketDisconnect

from priyom_contracts import Me
from priyom_kit import Role
from priyom_kit.auth import Authenticator

from .. import staff as accounts
from ..access import SEES_ALL, staff_of
from ..agent_socket import (
    CLOSE_BAD_TOKEN,
    CLOSE_NOT_YOURS,
    CLOSE_TOO_MANY,
    EXTENSION_RE,
    MAX_CLIENT_MESSAGE,
    MAX_CONSOLES_PER_EXTENSION,
    refuse,
)
from .deps import Session, Staff

STATIC = Path(__file__).parent.with_name("static")

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


router = APIRouter()


@cache
def _file(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@router.get("/console", tags=["console"], summary="The agent console (HTML; log in with a token)",
            response_class=Response, responses={200: {"content": {"text/html": {}}}})
async def console_page() -> Response:
    return Response(_file("console.html"), media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get("/console/{asset}", tags=["console"], include_in_schema=False)
async def console_asset(asset: str) -> Response:
    if asset not in ASSETS:
        raise HTTPException(404, "no such file")
    return Response(_file(asset), media_type=ASSETS[asset], headers=HEADERS)


@router.get("/api/v1/me", tags=["staff"], summary="The caller: name, role, teams and phone extension")
async def me(who: Staff, session: Session) -> Me:
    viewer = staff_of(who)
    return Me(name=viewer.name, role=viewer.staff_role, teams=sorted(viewer.teams),
              sees_all=viewer.staff_role in SEES_ALL, extension=await accounts.extension_of(session, viewer.name))


@router.websocket("/ws/agent")
async def agent_console(websocket: WebSocket, extension: str = "", token: str = "") -> None:
    """Pop-ups for one extension, as JSON text messages (see :mod:`priyom_tickets.popups`)."""
    authenticate: Authenticator = websocket.app.state.authenticator
    parts = websocket.app.state.tickets
    sockets = parts.consoles
    principal = await authenticate(token) if token else None
    if principal is None:
        await refuse(websocket, CLOSE_BAD_TOKEN, "invalid token")
        return
    if not EXTENSION_RE.fullmatch(extension):
        await refuse(websocket, CLOSE_NOT_YOURS, "no such extension")
        return
    if Role.ADMIN not in principal.roles:
        async with parts.database.sessions() as session:
            own = await accounts.extension_of(session, principal.name)
        if own != extension:
            await refuse(websocket, CLOSE_NOT_YOURS, "not your extension")
            return
    if sockets.count(extension) >= MAX_CONSOLES_PER_EXTENSION:
        await refuse(websocket, CLOSE_TOO_MANY, "too many consoles for this extension")
        return
    await websocket.accept()
    await sockets.add(extension, websocket)
    try:
        while True:  # the console has nothing to say yet: read keep-alives until it goes
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if len(message.get("text") or message.get("bytes") or "") > MAX_CLIENT_MESSAGE:
                await websocket.close(1009, "message too big")
                break
    except WebSocketDisconnect:
        pass
    finally:
        sockets.remove(extension, websocket)
