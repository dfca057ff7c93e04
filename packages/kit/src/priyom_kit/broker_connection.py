"""The bus's broker connection: named for its service, over every node of a cluster, and stopped within a bound.

``AMQP_URL`` may list several brokers, the nodes of one RabbitMQ cluster, separated by commas. aio-pika's
robust connection knows one address and retries only that one (aio-pika#141, the multi-host PR #680 was not
merged); :func:`failover_connection` gives it the list: each connection attempt, the first one and every one
after a lost connection, tries the addresses in turn from where the last one worked. Processes start at
different places in the list, so their connections spread over the nodes.

A stop cancels every consumer (a ``basic.cancel`` RPC each) and only then closes the connection; a cancel that
fails raises before closing, and one the broker never answers waits for ever. Once in a CI run the broker left a
cancel unanswered for minutes, and the process with it: :func:`stop_within` bounds it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aio_pika
from aio_pika import RobustConnection
from aio_pika.connection import make_url
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

from .gathered_writes import gathered
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


def broker_addresses(amqp_url: str) -> list[str]:
    """The brokers ``AMQP_URL`` names: one URL, or several separated by commas (the nodes of one cluster,
    each a whole URL with its credentials)."""
    addresses = [part.strip() for part in amqp_url.split(",") if part.strip()]
    if not addresses:
        raise ValueError("AMQP_URL names no broker")
    return addresses


def failover_connection(addresses: list[str]) -> type[RobustConnection]:
    """A :class:`RobustConnection` that connects to the first of ``addresses`` that answers, starting at a
    random one, and after a lost connection tries the next ones before going back to it."""
    urls = tuple(make_url(address) for address in addresses)

    class FailoverConnection(RobustConnection):
        _addresses = urls
        _at = random.randrange(len(urls))  # noqa: S311 - spreading connections, not a secret

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.kwargs = gathered(self.kwargs)  # a turn's frames in one send (see .gathered_writes)

        # Overrides RobustConnection.__connect_transport (name-mangled), the one step every attempt takes:
        # aio-pika reads ``self.url`` there, so each try points it at the next address first. Pinned by
        # packages/kit/tests/test_broker_failover.py against a real broker behind two addresses.
        async def _RobustConnection__connect_transport(self) -> None:  # noqa: N802
            failure: BaseException | None = None
            for step in range(len(self._addresses)):
                self.url = self._addresses[(self._at + step) % len(self._addresses)]
                try:
                    await RobustConnection._RobustConnection__connect_transport(self)  # type: ignore[attr-defined]
                except CONNECTION_EXCEPTIONS as exc:
                    failure = exc
                    log.warning("broker address did not answer", address=self.url.host, port=self.url.port,
                                error=type(exc).__name__)
                    continue
                self._at = (self._at + step) % len(self._addresses)
                return
            assert failure is not None
            raise failure

    return FailoverConnection


async def connect_robust(amqp_url: str, **kwargs: Any) -> aio_pika.abc.AbstractRobustConnection:
    """``aio_pika.connect_robust`` over every address of ``amqp_url`` (see :func:`failover_connection`)."""
    addresses = broker_addresses(amqp_url)
    return await aio_pika.connect_robust(addresses[0], connection_class=failover_connection(addresses), **kwargs)


async def close_within(connection: Any, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Close an aio-pika connection, waiting at most ``timeout_s``: a close the broker never answers must not
    hold a stop. A close that failed is as good as closed here."""
    closing = asyncio.ensure_future(connection.close())
    await asyncio.wait({closing}, timeout=timeout_s)
    if closing.done() and not closing.cancelled():
        closing.exception()  # retrieved


async def stop_within(stop: Callable[[], Awaitable[None]], connection: Any, service: str, *,
                      first: Callable[[], Awaitable[None]] | None = None) -> None:
    """Run ``first`` (the queue-depth sampler's stop), then ``stop`` (the consumers' and the broker's); if either
    does not end in
    :data:`STOP_TIMEOUT_S`, close ``connection`` (the one its ``connect`` returned) all the same. That returns the
    unacknowledged messages to their queues, as a crash would: nothing is lost.

    Each is waited for with ``asyncio.wait``, not ``wait_for`` nor a plain await of a cancelled task: aiormq's
    RPC (a consumer's cancel, the sampler's passive declare) does not end when cancelled, and both wait for a
    cancelled task to end. Once a CI run hung three minutes that way. Closing the connection is what ends it."""
    timeout_s = STOP_TIMEOUT_S
    sampler = asyncio.ensure_future(first()) if first is not None else None
    if sampler is not None:
        await asyncio.wait({sampler}, timeout=timeout_s)
    stopping = asyncio.ensure_future(stop())
    done, _ = await asyncio.wait({stopping}, timeout=timeout_s)
    if stopping in done and stopping.exception() is None and (sampler is None or sampler.done()):
        return
    error = stopping.exception() if stopping in done else TimeoutError()
    log.warning("consumers not cancelled cleanly: closing the connection", service=service,
                error=type(error).__name__)
    if connection is not None:
        await close_within(connection, timeout_s)
    left = {task for task in (stopping, sampler) if task is not None and not task.done()}
    for task in left:
        task.cancel()
    if left:
        await asyncio.wait(left, timeout=timeout_s)  # ended by the closed connection, or left behind
