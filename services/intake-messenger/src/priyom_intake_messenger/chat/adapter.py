"""The website chat on the adapter kit: a visitor's frame in, a contact out; a reply into the conversation.

What ``normalise`` reads is what the socket (:mod:`.socket`) hands it for each frame it accepted::

    {"visitor": "<id>", "received_at": "…", "offline": false,
     "profile": {"name": …, "email": …, "phone": …} | null,
     "frame": {"type": "message", "id": "<browser id>", "text": …, "files": [{"name", "type", "data"}]}}

The idempotency key is ``chat:<visitor>:<browser id>``: a frame resent after a reconnect, or after this
service was killed before it acknowledged, is the same contact. Every contact of a visitor names the thread
``chat:<visitor>``, which is how tickets files the second and later messages on the open ticket, as it does a
Telegram chat's. A message sent while no agent is online by a visitor who left an e-mail carries no chat id,
so tickets answers it by e-mail (``reply_paths``: a chat answer needs the visitor's chat id).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from priyom_contracts import MessengerId, OutboundReply, Recipient, Sender, ThreadHint, chat_thread
from priyom_kit.adapters import ChannelAdapter, Delivered, DeliveryError, FileRef, Inbound

from .frames import Message, Rating
from .history import ChatHistory, Line
from .live import VisitorSockets

CHANNEL = "chat"
#: A thread is the contracts' ``chat_thread(visitor)``: tickets finds a visitor's ticket by it too.
THREAD_PREFIX = chat_thread("")
thread_of = chat_thread


def visitor_of(recipient: Recipient) -> str | None:
    """The visitor a reply goes to: the chat id, or the thread ``chat:<visitor>``."""
    if recipient.messenger is not None and recipient.messenger.channel == CHANNEL:
        return recipient.messenger.user_id
    if recipient.external_thread_id and recipient.external_thread_id.startswith(THREAD_PREFIX):
        return recipient.external_thread_id.removeprefix(THREAD_PREFIX)
    return None


class ChatAdapter(ChannelAdapter):
    """``history`` keeps the conversations; ``sockets`` are the visitors connected to this process."""

    channel = CHANNEL

    def __init__(self, history: ChatHistory, sockets: VisitorSockets) -> None:
        self.history = history
        self.sockets = sockets

    def normalise(self, raw: Mapping[str, Any]) -> list[Inbound]:
        visitor = str(raw["visitor"])
        frame = raw["frame"]
        profile = raw.get("profile") or {}
        # Away, with an e-mail to answer to: no chat id, so the answer goes by e-mail (module docstring).
        by_email = bool(raw.get("offline")) and bool(profile.get("email"))
        sender = Sender(
            name=profile.get("name"),
            email=profile.get("email"),
            phone=profile.get("phone"),
            messenger=None if by_email else MessengerId(channel=CHANNEL, user_id=visitor),
        )
        received_at = datetime.fromisoformat(raw["received_at"])
        if frame.get("type") == "rating":
            rating = Rating.model_validate(frame)
            return [
                Inbound(
                    idempotency_key=f"{CHANNEL}:{visitor}:{rating.id}",
                    received_at=received_at,
                    sender=sender,
                    body=" ".join(filter(None, [str(rating.rating), rating.comment])),
                    thread=ThreadHint(external_thread_id=thread_of(visitor), ticket_number=rating.ticket),
                )
            ]
        message = Message.model_validate(frame)
        if not message.text.strip() and not message.files:
            return []
        return [
            Inbound(
                idempotency_key=f"{CHANNEL}:{visitor}:{message.id}",
                received_at=received_at,
                sender=sender,
                body=message.text,
                files=tuple(FileRef(f.data, f.name, f.type, _decoded_size(f.data)) for f in message.files),
                thread=ThreadHint(
                    external_thread_id=thread_of(visitor), message_id=f"{CHANNEL}:{message.id}"
                ),
            )
        ]

    async def fetch(self, file: FileRef) -> bytes:
        return base64.b64decode(file.ref, validate=True)

    async def deliver(self, reply: OutboundReply) -> Delivered:
        visitor = visitor_of(reply.recipient)
        if visitor is None:
            raise DeliveryError("the recipient has no chat visitor", permanent=True)
        if not await self.history.known(visitor):
            raise DeliveryError("no such chat visitor (expired or erased)", permanent=True)
        line = _line_of(reply)
        await self.history.add(visitor, line)
        # Live to the sockets this process holds (the other processes' get it from :meth:`show`); a visitor
        # who is away reads it from the conversation on return.
        await self.sockets.send(visitor, {"type": "reply", **line.as_frame()})
        return Delivered(f"chat:{reply.reply_id}")

    async def show(self, reply: OutboundReply) -> int:
        """Show an answer on the visitor's sockets this process holds (the per-process fan-out of every chat
        answer: the process that delivers it may not be the one the visitor is connected to); how many took
        it. The widget shows an answer once, whichever copy comes first."""
        visitor = visitor_of(reply.recipient)
        if visitor is None or not self.sockets.connected(visitor):
            return 0
        return await self.sockets.send(visitor, {"type": "reply", **_line_of(reply).as_frame()})


def _line_of(reply: OutboundReply) -> Line:
    return Line(
        direction="out",
        message_id=str(reply.reply_id),
        body=reply.body,
        files=[a.filename for a in reply.attachments],
        blobs=[a.blob_key for a in reply.attachments],
        ticket_number=reply.ticket_number,
        survey=reply.survey,
        created_at=reply.occurred_at,
    )


def _decoded_size(data: str) -> int | None:
    try:
        return len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        return None
