"""The sockets of the agent's live channel (``ws://…/ws/agent?extension=N&token=T``, routed in
:mod:`priyom_tickets.api.console`) that this process holds.

Each tickets process keeps its own registry, extension → open sockets. It remembers which extensions a call
popped up on (so an answer elsewhere or the hang-up closes them) and the pop-up an extension is ringing with
(so a second console, or one reconnecting after a drop, still gets a pop-up this process already showed;
a ring that came while no console of the extension was open here is not kept), both bounded.

A console confirms each pop-up it showed (``{"type": "popup_shown", "call_id": …}``): the time from the ring to
that confirmation is the latency the agent sees (``priyom_popup_shown_seconds``). A pop-up no console of the
extension confirmed within ``ack_wait_s`` is sent again to every console the extension has open then (one that
reconnected meanwhile, another desk), once; one still unconfirmed is counted, never silently lost.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import OrderedDict
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from fastapi import WebSocket
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from priyom_kit import get_logger

from .access import Viewer

log = get_logger("priyom.tickets.agent_socket")

#: What an extension may look like: digits mostly, sometimes an endpoint name ("PJSIP/alice" is sent as alice).
EXTENSION_RE = re.compile(r"^[0-9A-Za-z_.+\-]{1,32}$")
#: A console that does not take a message within this time is dropped rather than holding the others up.
SEND_TIMEOUT_S = 2.0
#: How long a ringing pop-up is offered to a console that connects late (a phone rings for 15–60 s).
RINGING_KEPT_S = 60.0
#: Calls remembered with the extensions they popped up on; the oldest are forgotten first.
CALLS_KEPT = 10_000
#: Largest message a console may send (it has nothing to say yet beyond keep-alives).
MAX_CLIENT_MESSAGE = 4096

#: Consoles one extension may hold open in one process (a desk, a laptop, a wallboard, reconnect overlap).
MAX_CONSOLES_PER_EXTENSION = 8

#: Seconds a console has to confirm a pop-up before it is sent again to the extension's consoles.
ACK_WAIT_S = 1.5

CLOSE_BAD_TOKEN = 4401
CLOSE_NOT_YOURS = 4403
CLOSE_TOO_MANY = 4429


class AgentSockets:
    """Extension → the open sockets of this process, and the calls they were shown.

    With a registry it exports the open consoles and, per pop-up, the time from the call event's
    publication to the pop-up written to the sockets: the part of "before the agent answers" tickets owns,
    watched in production rather than only in the bench.
    """

    def __init__(self, registry: CollectorRegistry | None = None, ack_wait_s: float = ACK_WAIT_S) -> None:
        self._sockets: dict[str, set[WebSocket]] = {}
        self._viewers: dict[str, Viewer | None] = {}
        self.ack_wait_s = ack_wait_s
        #: (extension, call_id) → (pop-up, ring time, sends so far): shown to nobody yet.
        self._unconfirmed: dict[tuple[str, str], tuple[str, datetime | None, int]] = {}
        self.shown = Histogram("priyom_popup_shown_seconds",
                               "From the ringing call event to a console's confirmation that it showed the pop-up",
                               buckets=(0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=registry)
        self.resent = Counter("priyom_popup_resent", "Pop-ups sent again because no console confirmed them",
                              registry=registry)
        self.unconfirmed = Counter("priyom_popup_unconfirmed",
                                   "Pop-ups no console confirmed, even after sending them again", registry=registry)
        self.consoles = Gauge("priyom_agent_consoles", "Open /ws/agent sockets in this process",
                              registry=registry)
        self.delay = Histogram("priyom_popup_delay_seconds",
                               "From the ringing call event's publication to its pop-up written to the sockets",
                               buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5), registry=registry)
        self._calls: OrderedDict[str, set[str]] = OrderedDict()
        self._ringing: dict[str, tuple[str, str, float]] = {}  # extension → (call_id, pop-up, since)

    def serves(self, extension: str) -> bool:
        return bool(self._sockets.get(extension))

    def viewer(self, extension: str) -> Viewer | None:
        """Whose access rules a pop-up on ``extension`` follows (None: it may show every team's tickets)."""
        return self._viewers.get(extension)

    def count(self, extension: str) -> int:
        return len(self._sockets.get(extension, ()))

    async def add(self, extension: str, socket: WebSocket, viewer: Viewer | None = None) -> None:
        """Register a console; ``viewer``: the access of the staff member whose extension it is."""
        self._viewers[extension] = viewer
        self._sockets.setdefault(extension, set()).add(socket)
        self.consoles.inc()
        ringing = self._ringing.get(extension)
        if ringing is not None and time.monotonic() - ringing[2] < RINGING_KEPT_S:
            await self._send([socket], ringing[1])

    def remove(self, extension: str, socket: WebSocket) -> None:
        sockets = self._sockets.get(extension)
        if sockets is not None and socket in sockets:
            sockets.discard(socket)
            self.consoles.dec()
            if not sockets:
                del self._sockets[extension]
                self._viewers.pop(extension, None)

    # -- call progress (popups.Consoles) --------------------------------------------------------------

    async def ringing(self, extension: str, call_id: str, text: str, published: datetime | None = None) -> None:
        self._calls.setdefault(call_id, set()).add(extension)
        self._calls.move_to_end(call_id)
        while len(self._calls) > CALLS_KEPT:
            self._calls.popitem(last=False)
        self._ringing[extension] = (call_id, text, time.monotonic())
        self._unconfirmed[(extension, call_id)] = (text, published, 1)
        await self._to({extension}, text)
        if published is not None:
            self.delay.observe(max(0.0, (datetime.now(UTC) - published).total_seconds()))
        asyncio.get_running_loop().call_later(self.ack_wait_s, self._check, extension, call_id)

    def confirmed(self, extension: str, call_id: str) -> None:
        """A console of ``extension`` showed the pop-up of ``call_id`` (the first confirmation counts)."""
        waiting = self._unconfirmed.pop((extension, call_id), None)
        if waiting is not None and waiting[1] is not None:
            self.shown.observe(max(0.0, (datetime.now(UTC) - waiting[1]).total_seconds()))

    def _check(self, extension: str, call_id: str) -> None:
        waiting = self._unconfirmed.get((extension, call_id))
        if waiting is None:
            return
        text, published, sends = waiting
        if sends >= 2 or not self.serves(extension):
            del self._unconfirmed[(extension, call_id)]
            self.unconfirmed.inc()
            log.warning("pop-up not confirmed by any console", call_id=call_id, sends=sends)
            return
        self._unconfirmed[(extension, call_id)] = (text, published, sends + 1)
        self.resent.inc()
        resend = asyncio.ensure_future(self._to({extension}, text))
        resend.add_done_callback(lambda _: asyncio.get_running_loop().call_later(
            self.ack_wait_s, self._check, extension, call_id))

    async def answered(self, extension: str | None, call_id: str, text: str) -> None:
        extensions = set(self._calls.get(call_id, ()))
        if extension is not None:
            extensions.add(extension)
        for each in extensions:
            self._stop_ringing(each, call_id)
        await self._to(extensions, text)

    async def ended(self, extension: str | None, call_id: str, text: str) -> None:
        extensions = self._calls.pop(call_id, set())
        if extension is not None:
            extensions.add(extension)
        for each in extensions:
            self._stop_ringing(each, call_id)
        await self._to(extensions, text)

    # -- sending --------------------------------------------------------------------------------------

    def _stop_ringing(self, extension: str, call_id: str) -> None:
        # Answered or ended: a pop-up nobody confirmed by now is past showing, not to be sent again.
        self._unconfirmed.pop((extension, call_id), None)
        if self._ringing.get(extension, ("",))[0] == call_id:
            del self._ringing[extension]

    async def tell(self, extension: str, text: str) -> None:
        """Send the consoles of ``extension`` in this process a message that is no call (a note's mention): the
        console reads the record behind it over the API, so a console on another instance loses nothing."""
        await self._to({extension}, text)

    async def _to(self, extensions: set[str], text: str) -> None:
        await self._send([s for e in extensions for s in self._sockets.get(e, ())], text)

    async def _send(self, sockets: list[WebSocket], text: str) -> None:
        """Send to every socket at once, each within :data:`SEND_TIMEOUT_S`. The usual one socket is written in
        place: a task per send (``wait_for``, ``gather``) cost more CPU than the write and a loop round each."""
        if not sockets:
            return
        if len(sockets) == 1:
            results: list[BaseException | None] = [await _within(sockets[0].send_text(text))]
        else:
            results = await asyncio.gather(*(_within(s.send_text(text)) for s in sockets))
        for socket, result in zip(sockets, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("console dropped", error=type(result).__name__)
                for extension in [e for e, held in self._sockets.items() if socket in held]:
                    self.remove(extension, socket)


async def _within(send: Coroutine[Any, Any, None]) -> BaseException | None:
    """One socket's send within :data:`SEND_TIMEOUT_S`; what went wrong, or None."""
    try:
        async with asyncio.timeout(SEND_TIMEOUT_S):
            await send
    except Exception as exc:  # noqa: BLE001 - a console gone or too slow is dropped by the caller
        return exc
    return None


def shown_call(text: str | None) -> str | None:
    """The call id of a console's ``{"type": "popup_shown", "call_id": …}``; None for anything else."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("type") == "popup_shown" and isinstance(data.get("call_id"), str):
        return data["call_id"][:128]
    return None


async def refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Accept only to close with a code the browser can read; nothing is registered or sent."""
    await websocket.accept()
    await websocket.close(code, reason)
