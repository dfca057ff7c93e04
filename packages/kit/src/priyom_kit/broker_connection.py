"""The bus's broker connection: named for its service, and stopped within a bound.

faststream's ``RabbitBroker.stop`` cancels every consumer (a ``basic.cancel`` RPC each) and only then closes the
connection; a cancel that fails makes it raise before closing, and one the broker never answers makes it wait
for ever. Once in a CI run the broker left a cancel unanswered for minutes, and the process with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from faststream.rabbit import RabbitBroker

from .logging import get_logger

log = get_logger("priyom.bus")

#: Longest a stop waits for the broker to take back the consumers before it closes the connection without them.
STOP_TIMEOUT_S = 10.0


def named_url(url: str, service: str) -> str:
    """Add ``?name=<service>`` so ``rabbitmqctl list_connections`` shows who is connected."""
    parts = urlsplit(url)
    if "name=" in parts.query:
        return url
    query = "&".join(filter(None, [parts.query, urlencode({"name": f"priyom-{service}"})]))
    return urlunsplit(parts._replace(query=query))


async def stop_within(broker: RabbitBroker, connection: Any, service: str, *,
                      first: Callable[[], Awaitable[None]] | None = None) -> None:
    """Run ``first`` (the queue-depth sampler's stop), then stop ``broker``; if either does not end in
    :data:`STOP_TIMEOUT_S`, close ``connection`` (the one its ``connect`` returned) all the same. That returns the
    unacknowledged messages to their queues, as a crash would: nothing is lost.

    Each is waited for with ``asyncio.wait``, not ``wait_for`` nor a plain await of a cancelled task: aiormq's
    RPC (a consumer's cancel, the sampler's passive declare) does not end when cancelled, and both wait for a
    cancelled task to end. Once a CI run hung three minutes that way. Closing the connection is what ends it."""
    timeout_s = STOP_TIMEOUT_S
    sampler = asyncio.ensure_future(first()) if first is not None else None
    if sampler is not None:
        await asyncio.wait({sampler}, timeout=timeout_s)
    stopping = asyncio.ensure_future(broker.stop())
    done, _ = await asyncio.wait({stopping}, timeout=timeout_s)
    if stopping in done and stopping.exception() is None and (sampler is None or sampler.done()):
        return
    error = stopping.exception() if stopping in done else TimeoutError()
    log.warning("consumers not cancelled cleanly: closing the connection", service=service,
                error=type(error).__name__)
    if connection is not None:
        closing = asyncio.ensure_future(connection.close())
        await asyncio.wait({closing}, timeout=timeout_s)
        if closing.done() and not closing.cancelled():
            closing.exception()  # retrieved: a close that failed is as good as closed here
    left = {task for task in (stopping, sampler) if task is not None and not task.done()}
    for task in left:
        task.cancel()
    if left:
        await asyncio.wait(left, timeout=timeout_s)  # ended by the closed connection, or left behind
