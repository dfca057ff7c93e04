"""Moving-window rate limits (the ``limits`` library), counted one way wherever the public is let in.

The public form (intake-web), tickets' public links and the website chat (intake-messenger) count a caller
against several windows ("20/minute;200/hour") and, when refused, answer how long to wait (``Retry-After``).

Storage. ``memory://`` needs nothing; its counters belong to one process, so N processes behind one address
allow N times the limit and forget everything on restart. ``redis://`` shares the counters between every
process and keeps them across restarts, at the cost of one Redis round trip per check.

``memory://`` is the library's memory storage with one change (:class:`SweptMemoryStorage`): the library
sweeps expired entries of every key it holds after each hit, with a thread hop per key, so each submission
cost more as distinct senders accumulated (a public form counting e-mails and phones keeps thousands of keys
for an hour: the sweep ran back to back and was a quarter of intake-web's CPU in the benchmark, and a wave of
distinct addresses would make it worse). Here the sweep runs inline, at most once every ``sweep_s``.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Iterable

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


class SweptMemoryStorage(MemoryStorage):
    """The library's async memory storage, its expired entries swept inline at most once every ``sweep_s``
    instead of after every hit with a thread hop per key (see the module's docstring). The windows are
    counted exactly as before: a hit reads only its own key's newest entries, so how soon expired ones are
    dropped changes memory, never an answer."""

    def __init__(self, sweep_s: float = 30.0) -> None:
        super().__init__()
        self.sweep_s = sweep_s
        self._next_sweep = 0.0

    # The library calls this (a private name of its class) after every hit and every counter change.
    async def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - the name the library calls
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + self.sweep_s
            self.sweep(now)

    def sweep(self, now: float) -> None:
        """Drop expired entries and the keys left without any. Runs without awaiting, so no hit can be
        between its lock and its change meanwhile (the library's locks are never held across an await)."""
        for key, events in list(self.events.items()):
            del events[bisect.bisect_left(events, -now, key=lambda entry: -entry.expiry):]  # newest first
            if not events:
                del self.events[key]
                self.locks.pop(key, None)
        for key, expiry in list(self.expirations.items()):
            if expiry <= now:
                self.storage.pop(key, None)
                del self.expirations[key]
                self.locks.pop(key, None)


def open_storage(uri: str) -> Storage:
    """The async storage the URI names (``memory://`` or ``redis://…``), through redis-py for Redis."""
    if uri.startswith("memory://"):
        return SweptMemoryStorage()
    options = {"implementation": "redispy"} if uri.startswith("redis") else {}
    storage = storage_from_string(f"async+{uri}", **options)
    assert isinstance(storage, Storage)
    return storage


async def wait_s(limiter: MovingWindowRateLimiter, items: Iterable[RateLimitItem], namespace: str,
                 keys: Iterable[str]) -> int | None:
    """Count one hit of every key in every window; the whole seconds until the last refusing window frees
    again (at least 1), or None while every window still had room. Every window is hit, even after a refusal,
    so the answer names the longest wait of all."""
    waits = []
    windows = list(items)
    for key in keys:
        for item in windows:
            if not await limiter.hit(item, namespace, key):
                stats = await limiter.get_window_stats(item, namespace, key)
                waits.append(stats.reset_time - time.time())
    return max(1, math.ceil(max(waits))) if waits else None
