"""The AMI connection: panoramisk with its known faults worked around.

* **UTF-8 split across reads**: panoramisk decodes every TCP chunk on its own and drops the bytes of a
  character cut in two ("Иван" arrives as "ван"); :class:`Utf8AmiProtocol` decodes incrementally.
* **Reconnect**: panoramisk retries at a fixed interval, forever; :class:`BackoffManager` doubles the wait up
  to a ceiling and starts again from the floor after a successful login.
* **Wrong secret**: panoramisk only sets ``authenticated = False``; here it is logged once, as an error, and
  the state shows in ``/health``.
* **Half-open TCP**: panoramisk's keep-alive never reads the Pong; a watchdog pings and closes the transport
  when no answer comes, which starts the reconnect. Whatever fails in a round, the watchdog goes on.
* **Gaps**: events sent while the service was down or reconnecting are lost; after every login (the first
  one too: calls were resumed from the database) ``CoreShowChannels`` says which channels exist.
* **Ordering**: coroutine callbacks run unordered; events go through a synchronous callback into one queue
  that one task reads, so the tracker sees them in the order Asterisk sent them, and the reader never waits.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message
from panoramisk.utils import EOL

from priyom_kit import get_logger
from priyom_kit.deadlines import bounded

log = get_logger("priyom.intake-telephony.ami")

#: The events the tracker reads; everything else is dropped in the reader (RTCP, Newexten, …).
TRACKED_EVENTS = frozenset({
    "newchannel", "newcallerid", "dialbegin", "dialend", "agentcalled", "agentconnect", "agentringnoanswer",
    "queuecallerjoin", "queuecallerabandon", "queuecallerleave", "bridgeenter", "bridgeleave", "attendedtransfer",
    "pickup", "varset", "hangup", "cdr",
})
#: Bound of events waiting for the tracker: far above any burst, small enough to stay in memory.
MAX_BACKLOG = 100_000


#: A channel as ``CoreShowChannels`` lists it: its fields (``Uniqueid``, ``Linkedid``, ``Channel``, …).
ChannelFields = Mapping[str, str]


@dataclass(frozen=True)
class Resync:
    """Queued after a login, in order with the events: the channels Asterisk has, by ``Uniqueid``."""

    channels: Mapping[str, ChannelFields]


class AmiState(StrEnum):
    DISABLED = "disabled"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    AUTH_FAILED = "auth_failed"
    DISCONNECTED = "disconnected"


class Utf8AmiProtocol(AMIProtocol):
    """panoramisk's protocol with an incremental UTF-8 decoder: a character cut between two reads survives."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def data_received(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if self.version is None and text.startswith("Asterisk Call Manager/"):
            self.version = text.partition(EOL)[0].partition("/")[2].strip()
        if self.queue:
            text = self.queue.popleft() + text
        messages = text.split(EOL + EOL)
        self.queue.append(messages.pop(-1))
        for raw in messages:
            message = Message.from_line(raw.strip())
            if message is not None:
                self.handle_message(message)


class BackoffManager(Manager):
    """A panoramisk ``Manager`` whose reconnect waits double after each failed attempt (with jitter)."""

    def __init__(self, *, backoff_min_s: float, backoff_max_s: float, **config: Any) -> None:
        self._backoff_min_s = backoff_min_s
        self._backoff_max_s = backoff_max_s
        self._attempts = 0
        self.stopped = False
        super().__init__(**config)

    @property  # type: ignore[override]
    def reconnect_timeout(self) -> float:
        delay = min(self._backoff_max_s, self._backoff_min_s * 2 ** max(0, self._attempts - 1))
        return delay * (0.8 + 0.4 * random.random())  # noqa: S311 - jitter, not security

    @reconnect_timeout.setter
    def reconnect_timeout(self, _: float) -> None:
        pass  # panoramisk's fixed interval is replaced by the backoff above

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        if self.stopped:
            return None  # a reconnect scheduled before the service stopped
        self._attempts += 1
        return super().connect(*args, **kwargs)

    def reset_backoff(self) -> None:
        self._attempts = 0


class AmiConnection:
    """One AMI session, kept up; ``on_event`` gets each tracked event, in order, from one task."""

    def __init__(self, *, host: str, port: int, username: str, secret: str, events: str,
                 on_event: Callable[[Mapping[str, Any]], None],
                 on_resync: Callable[[Mapping[str, ChannelFields]], None] | None = None, ping_interval_s: float = 10.0,
                 backoff_min_s: float = 1.0, backoff_max_s: float = 60.0) -> None:
        self.config = dict(host=host, port=port, username=username, secret=secret, events=events)
        self.on_event = on_event
        self.on_resync = on_resync
        self.ping_interval_s = ping_interval_s
        self.backoff = (backoff_min_s, backoff_max_s)
        self.state = AmiState.CONNECTING
        self.logins = 0
        self.protocol_factory: type[AMIProtocol] = Utf8AmiProtocol
        self.manager: BackoffManager | None = None
        self._queue: asyncio.Queue[Message | Resync] = asyncio.Queue(MAX_BACKLOG)
        self._tasks: list[asyncio.Task[None]] = []
        self._auth_failure_logged = False

    async def start(self) -> None:
        """Connect in the background (a PBX that is down does not stop the service from starting)."""
        self.manager = BackoffManager(
            **self.config, backoff_min_s=self.backoff[0], backoff_max_s=self.backoff[1],
            protocol_factory=self.protocol_factory, ping_delay=3600, ping_interval=3600,
            on_login=self._on_login, on_disconnect=self._on_disconnect, on_connect=self._on_connect,
            forgetable_actions=("ping", "login", "originate"),
        )
        self.manager.register_event("*", self._received)
        self.manager.login = self._login_result(self.manager.login)  # type: ignore[method-assign]
        self._tasks = [asyncio.create_task(self._consume()), asyncio.create_task(self._watchdog())]
        self.manager.connect()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.manager is not None:
            self.manager.stopped = True
            self.manager.on_disconnect = lambda *_: None
            self.manager.connection_lost = lambda *_: None  # type: ignore[method-assign]
            self.manager.close()
        self.state = AmiState.DISCONNECTED

    async def send_action(self, action: dict[str, str], timeout: float = 5.0) -> Any:
        """Send one action and return Asterisk's response; raises when not logged in or on timeout."""
        if self.manager is None or self.state is not AmiState.CONNECTED:
            raise ConnectionError(f"AMI not connected ({self.state.value})")
        # as_list=False: the first response answers. For an async Originate panoramisk would otherwise wait
        # for the OriginateResponse event, which comes only once the agent picked up (or the ring timed out).
        return await bounded(self.manager.send_action(action, as_list=False), timeout)

    # -- panoramisk callbacks (synchronous, on the loop) --------------------------------------------------

    def _received(self, _: Manager, message: Message) -> None:
        if str(message.get("Event", "")).lower() in TRACKED_EVENTS:
            try:
                self._queue.put_nowait(message)
            except asyncio.QueueFull:
                log.error("AMI backlog full: event dropped", backlog=MAX_BACKLOG)

    def _on_connect(self, _: Manager) -> None:
        self.state = AmiState.CONNECTING

    def _on_login(self, manager: Manager) -> None:
        self.state = AmiState.CONNECTED
        self.logins += 1
        self._auth_failure_logged = False
        assert self.manager is not None
        self.manager.reset_backoff()
        log.info("AMI logged in", host=self.config["host"], port=self.config["port"],
                 version=getattr(manager.protocol, "version", None))
        if self.on_resync is not None:
            self._tasks.append(asyncio.create_task(self._resync()))

    def _login_result(self, login: Callable[[Any], bool]) -> Callable[[Any], bool]:
        def checked(future: Any) -> bool:
            ok = login(future)
            if not ok:
                self.state = AmiState.AUTH_FAILED
                if not self._auth_failure_logged:
                    log.error("AMI login refused: check AMI_USERNAME and AMI_SECRET", host=self.config["host"])
                    self._auth_failure_logged = True
            return ok
        return checked

    def _on_disconnect(self, _: Manager, exc: Any) -> None:
        if self.state is not AmiState.AUTH_FAILED:
            self.state = AmiState.DISCONNECTED
        log.warning("AMI connection lost: reconnecting", host=self.config["host"])

    # -- tasks --------------------------------------------------------------------------------------------

    async def _resync(self) -> None:
        """Events of the gap are lost: ask which channels exist, so calls that ended in the gap are finished
        instead of waiting for ever, and calls that started in it are followed from now on."""
        assert self.manager is not None
        try:
            listing = await bounded(
                self.manager.send_action({"Action": "CoreShowChannels"}, as_list=True), 10)
        except Exception as exc:  # noqa: BLE001 - without the listing the open calls simply stay open
            log.warning("AMI resync failed", error=type(exc).__name__)
            return
        items = listing if isinstance(listing, list) else [listing]
        live = {str(item.get("Uniqueid")): {str(k): str(v) for k, v in dict(item).items()} for item in items
                if str(item.get("Event", "")).lower() == "coreshowchannel"}
        self._queue.put_nowait(Resync(live))

    async def _consume(self) -> None:
        while True:
            message = await self._queue.get()
            try:
                if isinstance(message, Resync):
                    if self.on_resync is not None:
                        self.on_resync(message.channels)
                    continue
                self.on_event(message)
            except Exception:  # noqa: BLE001 - one odd event must not stop the tracker
                log.exception("AMI event not understood", ami_event=str(message.get("Event")))

    async def _watchdog(self) -> None:
        """Ping; no answer in time, or any failure to ask, means a dead connection: close it, panoramisk
        reconnects. The loop itself never ends but by :meth:`stop`: a watchdog that died would leave a
        half-open connection unnoticed for good."""
        while True:
            await asyncio.sleep(self.ping_interval_s)
            try:
                await self._ping()
            except Exception:  # noqa: BLE001 - logged; the next round pings again
                log.exception("AMI watchdog round failed")

    async def _ping(self) -> None:
        if self.state is not AmiState.CONNECTED or self.manager is None:
            return
        try:
            await bounded(self.manager.send_action({"Action": "Ping"}), self.ping_interval_s / 2)
        except Exception as exc:  # noqa: BLE001 - unanswered, refused or broken: the connection is not usable
            log.warning("AMI ping failed: closing the connection to reconnect", error=type(exc).__name__)
            with contextlib.suppress(Exception):
                self.manager.protocol.transport.close()
