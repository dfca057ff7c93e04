"""The chat's typing indicator on this side: a visitor's ``typing`` frames out to the consoles, an agent's
typing in to the visitor's widgets.

Out: the socket hands over each ``typing`` frame of a visitor; at most one per visitor every ``every_s``
seconds is published (:class:`~priyom_contracts.VisitorTyping`, a signal: transient, never retried, kept
nowhere), the rest are dropped. The widget sends one every few seconds at most, so an honest one is never
dropped; a ``typing`` frame larger than any honest one is dropped, so the signal is no way to push text.

In: every process gets every agent's typing (the fan-out ``intake-messenger.chat-typing``) and sends
``{"type": "typing"}`` to the sockets it holds of that visitor, and of no one else.

Nothing is logged per signal: they come every few seconds from every visitor typing.
"""

from __future__ import annotations

from priyom_contracts import AgentTyping, VisitorTyping
from priyom_kit import Bus
from priyom_kit.signals import Throttle, publish_signal

from .live import VisitorSockets

#: The least time between two signals of one visitor that are passed on (the widget sends one per 2.5 s).
TYPING_EVERY_S = 2.0
#: The largest ``typing`` frame read: ``{"type": "typing"}`` with room to spare, nothing more.
MAX_TYPING_FRAME = 256


class TypingSignals:
    """Both ways of the typing indicator for the visitors of this process."""

    def __init__(self, bus: Bus, sockets: VisitorSockets, every_s: float = TYPING_EVERY_S) -> None:
        self.bus = bus
        self.sockets = sockets
        self.throttle = Throttle(every_s)

    async def visitor_typing(self, visitor: str, frame_size: int) -> bool:
        """A ``typing`` frame of ``frame_size`` characters from ``visitor``: whether a signal went out."""
        if frame_size > MAX_TYPING_FRAME or not self.throttle.allow(visitor):
            return False
        return await publish_signal(self.bus, VisitorTyping(visitor=visitor))

    async def show(self, signal: AgentTyping) -> int:
        """An agent is writing to ``signal.visitor``: tell their sockets here; how many took it."""
        if not self.sockets.connected(signal.visitor):
            return 0
        return await self.sockets.send(signal.visitor, {"type": "typing"})
