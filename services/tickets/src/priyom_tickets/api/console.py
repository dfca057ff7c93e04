"""The agent console: one static page, its script and its style sheet, served by tickets itself; who the
caller is (``/api/v1/me``); and its live channel, ``/ws/agent``, where caller pop-ups arrive.

Served from the API's own origin, the page needs no CORS and its script calls the same ``/api/v1`` routes an
integrator does, with the agent's bearer token (kept in the tab's sessionStorage, gone when the tab closes).
There is no build step and no third-party script: the files under ``static/`` are what the browser runs.

The Content-Security-Policy allows only this origin's script and style, no inline code and no plugins, so a
customer's text that slipped past the script's escaping still could not run; the script itself only ever
puts data into the page as text (``textContent``), never as markup.

The socket authenticates before it is accepted and registered, so nothing reaches an unauthenticated console.
It takes a one-time ticket (``POST /api/v1/ws-tickets``, :mod:`priyom_tickets.ws_tickets`), never a bearer
token: a URL is logged by proxies and servers, and a long-lived token in one is refused. A refused console is
still accepted and then closed at once with 4401 (no valid ticket) or 4403 (not your extension): a browser's
WebSocket sees close codes, never the HTTP status of a refused handshake. An agent's ticket opens only the
extension on their staff record; an admin's (the environment's token, or a staff admin's) opens any, for
supervisors' wallboards and for tests.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from priyom_contracts import Me, utcnow
from priyom_kit import Role

from .. import staff as accounts
from .. import ws_tickets
from ..access import SEES_ALL, staff_of
from ..agent_socket import (
    CLOSE_BAD_TOKEN,
    CLOSE_NOT_YOURS,
    CLOSE_TOO_MANY,
    EXTENSION_RE,
    MAX_CLIENT_MESSAGE,
    MAX_CONSOLES_PER_EXTENSION,
    refuse,
    shown_call,
)
from .deps import Parts, Session, Staff

STATIC = Path(__file__).parent.with_name("static")

#: The files the console is made of, and what each is. Nothing else under ``static/`` is served.
ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "dead_letters.js": "text/javascript; charset=utf-8",
    "page_kit.js": "text/javascript; charset=utf-8",
    "kb_editor.js": "text/javascript; charset=utf-8",
    "notes.js": "text/javascript; charset=utf-8",
    "assignment.js": "text/javascript; charset=utf-8",
    "macros.js": "text/javascript; charset=utf-8",
    "calls.js": "text/javascript; charset=utf-8",
    "kb.js": "text/javascript; charset=utf-8",
    "activities.js": "text/javascript; charset=utf-8",
    "live.js": "text/javascript; charset=utf-8",
    "typing.js": "text/javascript; charset=utf-8",
    "bulk.js": "text/javascript; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "keyboard.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    # The languages: t() and the date formatters, then one catalogue per language (keys to sentences).
    "i18n.js": "text/javascript; charset=utf-8",
    "preferences.js": "text/javascript; charset=utf-8",
    "messages.ru.js": "text/javascript; charset=utf-8",
    "messages.en.js": "text/javascript; charset=utf-8",
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


class WsTicket(BaseModel):
    ticket: str
    expires_in: int


@cache
def static_file(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@router.get("/", tags=["console"], status_code=307, response_class=RedirectResponse,
            summary="The service's address opens the agent console (307 to /console)")
async def to_console() -> RedirectResponse:
    """An agent types the host and port they were given; the API's root has nothing else to show them."""
    return RedirectResponse("/console", status_code=307)


@router.get("/console", tags=["console"], summary="The agent console (HTML; log in with a token)",
            response_class=Response, responses={200: {"content": {"text/html": {}}}})
async def console_page() -> Response:
    return Response(static_file("console.html"), media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get("/console/dead-letters", tags=["console"], response_class=Response,
            summary="The admins' dead-letter view (HTML; uses the console's login)",
            responses={200: {"content": {"text/html": {}}}})
async def dead_letters_page() -> Response:
    """Its data comes from the admin-only ``/api/v1/dead-letters``: the page itself holds nothing."""
    return Response(static_file("dead_letters.html"), media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get("/console/kb", tags=["console"], response_class=Response,
            summary="The knowledge base's editor (HTML; uses the console's login)",
            responses={200: {"content": {"text/html": {}}}})
async def kb_editor_page() -> Response:
    """Its data comes from ``/api/v1/kb/articles``, passed on to the portal: the page itself holds nothing."""
    return Response(static_file("kb_editor.html"), media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get("/console/{asset}", tags=["console"], include_in_schema=False)
async def console_asset(asset: str) -> Response:
    if asset not in ASSETS:
        raise HTTPException(404, "no such file")
    return Response(static_file(asset), media_type=ASSETS[asset], headers=HEADERS)


@router.get("/api/v1/me", tags=["staff"],
            summary="The caller: name, role, teams, phone extension, and the console's language and time zone")
async def me(who: Staff, session: Session, parts: Parts) -> Me:
    viewer = staff_of(who)
    preferences = await accounts.preferences_of(session, viewer.name)
    return Me(name=viewer.name, role=viewer.staff_role, teams=sorted(viewer.teams),
              sees_all=viewer.staff_role in SEES_ALL, extension=await accounts.extension_of(session, viewer.name),
              locale=preferences.locale, time_zone=preferences.time_zone, telephony=parts.telephony is not None,
              knowledge_base=parts.portal is not None)


@router.post("/api/v1/ws-tickets", tags=["console"], status_code=201,
             summary="A one-time ticket that opens /ws/agent within 60 s (the socket takes no bearer token)")
async def ws_ticket(who: Staff, session: Session) -> WsTicket:
    admin = Role.ADMIN in who.roles
    ticket = await ws_tickets.issue(session, name=who.name, admin=admin, now=utcnow())
    await session.commit()
    return WsTicket(ticket=ticket, expires_in=ws_tickets.TTL_S)


@router.websocket("/ws/agent")
async def agent_console(websocket: WebSocket, extension: str = "", ticket: str = "", token: str = "") -> None:
    """Pop-ups for one extension, as JSON text messages (see :mod:`priyom_tickets.popups`)."""
    parts = websocket.app.state.tickets
    sockets = parts.consoles
    if token:
        await refuse(websocket, CLOSE_BAD_TOKEN, "no tokens in URLs: open the socket with a ticket from "
                                                 "POST /api/v1/ws-tickets")
        return
    async with parts.database.sessions() as session:
        holder = await ws_tickets.redeem(session, ticket, now=utcnow())
        await session.commit()
    if holder is None:
        await refuse(websocket, CLOSE_BAD_TOKEN, "invalid or used ticket")
        return
    if not EXTENSION_RE.fullmatch(extension):
        await refuse(websocket, CLOSE_NOT_YOURS, "no such extension")
        return
    async with parts.database.sessions() as session:
        owner = await accounts.holder_of_extension(session, extension)
    if not holder.admin:
        if owner is None or owner.name != holder.name:
            await refuse(websocket, CLOSE_NOT_YOURS, "not your extension")
            return
    if sockets.count(extension) >= MAX_CONSOLES_PER_EXTENSION:
        await refuse(websocket, CLOSE_TOO_MANY, "too many consoles for this extension")
        return
    await websocket.accept()
    # The pop-ups follow the access of the agent whose extension it is, whoever opened the socket.
    await sockets.add(extension, websocket, parts.access.viewer(owner) if owner is not None else None)
    try:
        while True:  # keep-alives, and the confirmation of each pop-up shown, until the console goes
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if len(message.get("text") or message.get("bytes") or "") > MAX_CLIENT_MESSAGE:
                await websocket.close(1009, "message too big")
                break
            call_id = shown_call(message.get("text"))
            if call_id is not None:
                sockets.confirmed(extension, call_id)
    except WebSocketDisconnect:
        pass
    finally:
        sockets.remove(extension, websocket)
