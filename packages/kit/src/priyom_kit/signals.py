"""Signals: bus messages worth something for a few seconds only (the chat's typing indicator), for the
per-process fan-outs (``FanoutSpec``), and the throttle that keeps them few.

A contact or a reply must never be lost, so :meth:`.bus.Bus.publish` is persistent, mandatory and confirmed,
and its failure is the caller's to handle. A signal is the other way round: a lost one costs nothing (the next
comes while the person still types), a late one is worthless, and a broker that does not take one must not
fail or hold up what the caller was doing. So :func:`publish_signal` publishes it not ``durable``: transient
(never written to disk), not mandatory (with no process listening it is dropped, not returned as an error),
within a short timeout; and it reports a failure by its answer, never by raising.

:class:`Throttle` is the sender's side of "few": at most one per key every so often, the rest dropped, never
queued. It counts in this process only, which is what a signal needs: N processes let through at most N.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from priyom_contracts import Event

from .bus import Bus
from .logging import get_logger

log = get_logger("priyom.signals")

#: Seconds the broker has to take a signal before it is given up: a late signal is worth nothing.
SIGNAL_TIMEOUT_S = 2.0


class Throttle:
    """At most one per key every ``every_s`` seconds: :meth:`allow` says whether this one may go.

    It remembers the ``keys`` most recently allowed keys; an older one forgotten is allowed again, which for a
    signal is harmless (one more)."""

    def __init__(self, every_s: float, keys: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self._keys = keys
        self._clock = clock
        self._last: OrderedDict[str, float] = OrderedDict()

    def allow(self, key: str) -> bool:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every_s:
            return False
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self._keys:
            self._last.popitem(last=False)
        return True


async def publish_signal(bus: Bus, event: Event, timeout_s: float = SIGNAL_TIMEOUT_S) -> bool:
    """Publish ``event`` as a signal (module docstring): whether the broker took it. Never raises."""
    try:
        await bus.publish(event, durable=False, timeout_s=timeout_s)
    except Exception as exc:  # noqa: BLE001 - a signal lost is the next one's job; the caller goes on
        log.info("signal not published", type=event.type_name(), error=type(exc).__name__)
        return False
    return True
