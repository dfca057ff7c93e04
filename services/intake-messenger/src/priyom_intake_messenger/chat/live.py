"""The visitors' sockets this process holds, for replies delivered live.

One process sees only its own sockets; every chat answer also reaches every process through the per-process
fan-out ``intake-messenger.chat-replies`` (:meth:`.adapter.ChatAdapter.show`), so a visitor connected to any
process sees it live, whichever process delivered it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import WebSocket
from prometheus_client import CollectorRegistry, Gauge

from priyom_kit.deadlines import bounded

#: Tabs one visitor may have open with the chat at once, per process.
MAX_SOCKETS_PER_VISITOR = 8
#: A socket that does not take a frame within this time is dropped rather than holding the reply up.
SEND_TIMEOUT_S = 2.0


class VisitorSockets:
    """visitor id → the open sockets of that visitor."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._sockets: dict[str, set[WebSocket]] = {}
        self.open = Gauge("priyom_chat_sockets", "Visitor WebSockets open in this process", registry=registry)

    def __len__(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    def add(self, visitor: str, socket: WebSocket) -> bool:
        """Hold one more socket of ``visitor``; False when they already have the most allowed."""
        held = self._sockets.setdefault(visitor, set())
        if len(held) >= MAX_SOCKETS_PER_VISITOR:
            return False
        held.add(socket)
        self.open.inc()
        return True

    def remove(self, visitor: str, socket: WebSocket) -> None:
        held = self._sockets.get(visitor)
        if held is None or socket not in held:
            return
        held.discard(socket)
        self.open.dec()
        if not held:
            del self._sockets[visitor]

    def connected(self, visitor: str) -> bool:
        return bool(self._sockets.get(visitor))

    async def broadcast(self, frame: dict[str, Any]) -> int:
        """Send ``frame`` to every socket here; how many took it."""
        return sum([await self.send(visitor, frame) for visitor in list(self._sockets)])

    async def send(self, visitor: str, frame: dict[str, Any]) -> int:
        """Send ``frame`` to every socket of ``visitor`` here; how many took it."""
        text = json.dumps(frame, ensure_ascii=False)
        taken = 0
        for socket in list(self._sockets.get(visitor, ())):
            try:
                await bounded(socket.send_text(text), SEND_TIMEOUT_S)
                taken += 1
            except Exception:  # noqa: BLE001 - a dead or stuck socket is dropped; the history keeps the line
                self.remove(visitor, socket)
        return taken
