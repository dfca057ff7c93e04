"""Moving-window rate limits (the ``limits`` library), counted one way wherever the public is let in.

The public form (intake-web) and tickets' public links both count a caller against several windows
("20/minute;200/hour") and, when refused, answer how long to wait (``Retry-After``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from limits import RateLimitItem
from limits.aio.strategies import MovingWindowRateLimiter


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
