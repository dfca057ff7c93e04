"""The in-process moving windows (``memory://``): counted as the library counts them, swept without a thread."""

from __future__ import annotations

import asyncio

import pytest
from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter

from priyom_kit.rate_windows import SweptMemoryStorage, open_storage, wait_s


async def test_many_senders_do_not_make_each_hit_sweep_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's memory storage swept every key it held after each hit, a thread hop per key: with a form's
    thousands of distinct e-mails, every submission paid for all of them."""
    storage = open_storage("memory://")
    assert isinstance(storage, SweptMemoryStorage)
    limiter = MovingWindowRateLimiter(storage)
    window = parse("3/minute")
    for i in range(2000):
        assert await limiter.hit(window, "form", f"sender-{i}")

    def no_thread(*_: object, **__: object) -> None:
        raise AssertionError("a hit handed work to a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    storage.sweep_s = 0.0  # a sweep with every hit: still inline, never in a thread
    assert [await limiter.hit(window, "form", "again") for _ in range(4)] == [True, True, True, False]
    assert len(storage.events) == 2001  # none has expired: every sender is still counted


async def test_expired_windows_are_forgotten_by_the_next_sweep() -> None:
    storage = SweptMemoryStorage(sweep_s=0.0)
    limiter = MovingWindowRateLimiter(storage)
    second = parse("2/second")
    for i in range(50):
        assert await limiter.hit(second, "form", f"sender-{i}")
    await storage.incr("counter", 1)  # a fixed window's counter expires the same way
    assert len(storage.events) == 50 and "counter" in storage.storage
    await asyncio.sleep(1.1)
    assert await limiter.hit(second, "form", "later")  # the hit that sweeps
    assert [key for key in storage.events] == [second.key_for("form", "later")]
    assert "counter" not in storage.storage and "counter" not in storage.expirations


async def test_a_refusal_says_how_long_to_wait_as_the_library_does() -> None:
    """The answers are the library's own: the sweep's timing changes memory, not a count."""
    storage = SweptMemoryStorage(sweep_s=3600.0)  # no sweep during the test: the windows alone decide
    limiter = MovingWindowRateLimiter(storage)
    windows = [parse("2/second"), parse("3/minute")]
    assert await wait_s(limiter, windows, "form", ["k"]) is None
    assert await wait_s(limiter, windows, "form", ["k"]) is None
    assert await wait_s(limiter, windows, "form", ["k"]) == 1  # the per-second window is full (the minute's
    await asyncio.sleep(1.05)                                   # took its third hit all the same)
    wait = await wait_s(limiter, windows, "form", ["k"])
    assert wait is not None and 55 <= wait <= 60  # now the minute's window refuses, until its first hit ages
