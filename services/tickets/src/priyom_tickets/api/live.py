"""``/ws/live``: the console's live channel for every member of staff, extension or not (see
:mod:`priyom_tickets.live_feed`). Like ``/ws/agent`` it opens with a one-time ticket from
``POST /api/v1/ws-tickets``, never a bearer token, and a refused console is accepted and closed at once with a
code the browser can read (4401: no valid ticket; 4429: too many consoles of this member of staff here).

The console says which ticket it shows and when the agent writes an answer in a chat ticket's reply box; both
feed the chat's typing indicator (:mod:`priyom_tickets.chat_typing`)."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from priyom_contracts import utcnow

from .. import staff as accounts
from .. import ws_tickets
from ..access import Viewer
from ..agent_socket import CLOSE_BAD_TOKEN, CLOSE_TOO_MANY, MAX_CLIENT_MESSAGE, refuse
from ..chat_typing import console_frame
from ..live_feed import MAX_PER_STAFF

router = APIRouter()


@router.websocket("/ws/live")
async def live_console(websocket: WebSocket, ticket: str = "") -> None:
    """``{"type": "tickets_changed", "tickets": [{number, team, assignee, status, subject, updated_at}]}`` for
    the tickets the agent may see, about a second after each change; ``{"type": "typing", "ticket": N}`` while
    the visitor of the chat ticket the console shows types. The console sends ``{"type": "watch", "ticket":
    N | null}`` (what it shows) and ``{"type": "typing", "ticket": N}`` (the agent writes an answer)."""
    parts = websocket.app.state.tickets
    async with parts.database.sessions() as session:
        holder = await ws_tickets.redeem(session, ticket, now=utcnow())
        member = await accounts.by_name(session, holder.name) if holder is not None else None
        await session.commit()
    if holder is None or (member is None and not holder.admin):
        await refuse(websocket, CLOSE_BAD_TOKEN, "invalid or used ticket")
        return
    if parts.live.count(holder.name) >= MAX_PER_STAFF:
        await refuse(websocket, CLOSE_TOO_MANY, "too many live consoles for this member of staff")
        return
    viewer = Viewer(holder.name, None) if holder.admin else parts.access.viewer(member)
    await websocket.accept()
    parts.live.add(websocket, viewer)
    try:
        while True:  # until the console goes
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if len(message.get("text") or message.get("bytes") or "") > MAX_CLIENT_MESSAGE:
                await websocket.close(1009, "message too big")
                break
            frame = console_frame(message.get("text"))
            if frame is not None and frame.type == "watch":
                parts.typing.watch(websocket, viewer, frame.ticket)
            elif frame is not None and frame.ticket is not None:
                await parts.typing.from_console(viewer, frame.ticket)
    except WebSocketDisconnect:
        pass
    finally:
        parts.typing.forget(websocket)
        parts.live.remove(websocket)
