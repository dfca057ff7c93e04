"""``/chat/ws?site=<key>``: the visitor's WebSocket (the frames are in :mod:`.frames`).

The handshake is refused (HTTP 403) unless the page's origin is one the site key allows. Then ``hello`` opens
the visit (a new visitor, or the one the widget's token names, with a new token), ``welcome`` sends the
conversation, each ``typing`` is passed on as a signal (:mod:`.typing_signals`), and each ``message`` or
``rating`` becomes a contact: acknowledged only after the kit published it with the broker's confirm, so
whatever the widget holds unacknowledged it sends again, under the same id, and a repeat is acknowledged
without being published twice.

Nothing personal is logged: not the address, not the text, not the profile; a visitor is their random id.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from priyom_kit import get_logger
from priyom_kit.adapters import ChannelEdge
from priyom_kit.deadlines import bounded
from priyom_kit.gate import Gate

from ..settings import IntakeMessengerSettings
from .adapter import ChatAdapter
from .frames import Hello, Message, Ping, Profile, Rating, Typing, read_frame
from .guards import ChatLimits, SiteKeys
from .history import Line
from .presence import Presence
from .typing_signals import TypingSignals

log = get_logger("priyom.intake-messenger.chat")

#: Seconds a new socket has to say hello.
HELLO_WAIT_S = 10.0
CLOSE_TOO_MANY = 4429
CLOSE_BUSY = 1013
CLOSE_TOO_LARGE = 1009
CLOSE_POLICY = 1008


class Refused(Exception):
    """A frame the server will not take: ``reason`` for the widget, ``retry_after`` for a rate limit."""

    def __init__(self, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def chat_socket_router(
    edge: ChannelEdge,
    adapter: ChatAdapter,
    settings: IntakeMessengerSettings,
    sites: SiteKeys,
    limits: ChatLimits,
    presence: Presence,
    typing: TypingSignals,
) -> APIRouter:
    router = APIRouter(tags=["website chat"])
    gate = Gate(settings.chat_max_connections)
    # The largest honest frame: the files in base64 and the text in UTF-8, with room for the JSON around them.
    max_frame = (
        settings.chat_max_files * (settings.chat_max_file_bytes * 4 // 3 + 1024)
        + settings.chat_max_text * 4
        + 8192
    )

    def check_size(frame: Message) -> None:
        if len(frame.text) > settings.chat_max_text:
            raise Refused("too_long")
        if len(frame.files) > settings.chat_max_files:
            raise Refused("too_many_files")
        for upload in frame.files:
            try:
                size = len(base64.b64decode(upload.data, validate=True))
            except (binascii.Error, ValueError):
                raise Refused("bad_file") from None
            if size > settings.chat_max_file_bytes:
                raise Refused("file_too_large")

    async def take(visitor: str, address: str, profile: Profile | None, frame: Message | Rating) -> None:
        """Publish one message or rating as a contact and keep it in the conversation; raises Refused."""
        if await adapter.history.has(visitor, "in", frame.id):
            return  # sent before (the ack was lost): the same contact, already published
        if isinstance(frame, Message):
            check_size(frame)
        if (wait := await limits.message(visitor, address)) is not None:
            raise Refused("rate_limited", wait)
        now = datetime.now(UTC)
        raw = {
            "visitor": visitor,
            "received_at": now.isoformat(),
            "offline": not presence.online,
            "profile": profile.model_dump(mode="json", exclude={"type", "consent"}) if profile else None,
            "frame": frame.model_dump(mode="json"),
        }
        contacts = adapter.normalise(raw)
        if not contacts:
            raise Refused("empty")
        try:
            for contact in contacts:
                await edge.accept(contact)
        except Exception as exc:  # noqa: BLE001 - not confirmed: the widget sends it again
            log.warning("chat message not published", error=type(exc).__name__)
            raise Refused("unavailable", 2) from exc
        body = contacts[0].body
        files = [f.name for f in frame.files] if isinstance(frame, Message) else []
        await adapter.history.add(
            visitor,
            Line("in", frame.id, body, now, files, frame.ticket if isinstance(frame, Rating) else None),
        )

    async def converse(socket: WebSocket, site: str, address: str) -> None:
        hello = read_frame.validate_json(await bounded(socket.receive_text(), HELLO_WAIT_S))
        if not isinstance(hello, Hello):
            await socket.close(CLOSE_POLICY, "hello first")
            return
        visitor, token = await adapter.history.open_visit(site, hello.token)
        if not adapter.sockets.add(visitor, socket):
            await socket.close(CLOSE_TOO_MANY, "too many tabs")
            return
        try:
            lines = await adapter.history.latest(visitor, settings.chat_history_messages)
            await socket.send_json(
                {
                    "type": "welcome",
                    "token": token,
                    "online": presence.online,
                    "history": [line.as_frame() for line in lines],
                    "limits": {
                        "text": settings.chat_max_text,
                        "files": settings.chat_max_files,
                        "file_bytes": settings.chat_max_file_bytes,
                    },
                }
            )
            log.info("chat visit", site=site, visitor=visitor, returning=bool(hello.token), lines=len(lines))
            profile: Profile | None = None
            while True:
                text = await socket.receive_text()
                if len(text) > max_frame:
                    await socket.close(CLOSE_TOO_LARGE, "frame too large")
                    return
                answer = await answer_frame(visitor, address, text, profile)
                if isinstance(answer, Profile):
                    profile = answer
                elif answer is not None:
                    await socket.send_json(answer)
        finally:
            adapter.sockets.remove(visitor, socket)

    async def answer_frame(
        visitor: str, address: str, text: str, profile: Profile | None
    ) -> dict[str, Any] | Profile | None:
        try:
            frame = read_frame.validate_json(text)
        except ValidationError as exc:
            sent = _id_in(text)
            return {
                "type": "refused",
                "id": sent,
                "reason": "invalid",
                "detail": [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()[:5]],
            }
        if isinstance(frame, Profile):
            return frame
        if isinstance(frame, Ping):
            return {"type": "pong"}
        if isinstance(frame, Hello):
            return None
        if isinstance(frame, Typing):
            await typing.visitor_typing(visitor, len(text))
            return None
        try:
            await take(visitor, address, profile, frame)
        except Refused as refused:
            return {
                "type": "refused",
                "id": frame.id,
                "reason": refused.reason,
                "retry_after": refused.retry_after,
            }
        except Exception as exc:  # noqa: BLE001 - the database failed: not acknowledged, the widget resends
            log.warning("chat message not taken", error=type(exc).__name__)
            return {"type": "refused", "id": frame.id, "reason": "unavailable", "retry_after": 2}
        return {"type": "ack", "id": frame.id}

    @router.websocket("/chat/ws")
    async def visitor_socket(socket: WebSocket) -> None:
        site = socket.query_params.get("site")
        if not sites.allows(site, socket.headers.get("origin")):
            await socket.close(CLOSE_POLICY)  # before accept: the handshake is answered 403
            return
        assert site is not None
        address = socket.client.host if socket.client else "unknown"
        if not gate.enter():
            await socket.accept()
            await socket.close(CLOSE_BUSY, "busy")
            return
        try:
            await socket.accept()
            if (wait := await limits.address(address)) is not None:
                await socket.close(CLOSE_TOO_MANY, f"retry after {wait} s")
                return
            await converse(socket, site, address)
        except (WebSocketDisconnect, TimeoutError):
            pass
        except (ValidationError, KeyError):  # no hello first, or a binary frame (receive_text finds no text)
            await _close_quietly(socket, CLOSE_POLICY, "text frames, hello first")
        finally:
            gate.leave()

    return router


def _id_in(text: str) -> str | None:
    """The id of a frame that did not validate, when it has a readable one, so the widget knows which."""
    try:
        value = json.loads(text).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and len(value) <= 64 else None


async def _close_quietly(socket: WebSocket, code: int, reason: str) -> None:
    try:
        await socket.close(code, reason)
    except (RuntimeError, WebSocketDisconnect):
        pass
