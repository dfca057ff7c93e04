"""Moving-window rate limits (the ``limits`` library), counted one way wherever the public is let in.

The public form (intake-web), tickets' public links and the website chat (intake-messenger) count a caller
against several windows ("20/minute;200/hour") and, when refused, answer how long to wait (``Retry-After``).

Storage. ``memory://`` needs nothing; its counters belong to one process, so N processes behind one address
allow N times the limit and forget everything on restart. ``redis://`` shares the counters between every
process and keeps them across restarts, at the cost of one Redis round trip per check.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from limits import RateLimitItem
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


def open_storage(uri: str) -> Storage:
    """The async storage the URI names (``memory://`` or ``redis://…``), through redis-py for Redis."""
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
