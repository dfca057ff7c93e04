"""A deadline on one await: :func:`bounded`, the one way the services bound a wait.

Python 3.11's ``asyncio.wait_for`` can lose a cancellation (CPython bpo-42130): when the awaited operation
finishes in the same turn as the waiting task is cancelled, it returns the result and the cancel is gone. A loop
stopped by cancelling its task then goes on; the lease runner did exactly that in CI, winning and releasing its
lease for three minutes after its stop. ``asyncio.timeout`` has no such race (3.12 rebuilt ``wait_for`` on it),
so every bounded wait goes through it; ``tests/contract/test_deadlines.py`` keeps ``wait_for`` out of the code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def bounded(awaitable: Awaitable[T], timeout: float | None) -> T:
    """``await awaitable``, or :class:`TimeoutError` after ``timeout`` seconds (``None``: no deadline), the
    awaitable cancelled. Arguments in ``asyncio.wait_for``'s order; a cancellation of the caller always raises."""
    async with asyncio.timeout(timeout):
        return await awaitable
