"""Helpers for services' integration tests against the real broker and databases.

Kept in the kit, beside the pytest plugin's fixtures, so each service's tests watch the bus and open a
migrated database the same way instead of carrying their own copies.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aio_pika

from priyom_contracts import Topology

from .db import Database


class Tap:
    """A queue the test reads from: a private one bound to the bus, or a deployment queue such as the
    dead letters."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue

    async def next(self, timeout: float = 30.0) -> aio_pika.abc.AbstractIncomingMessage:
        """The next message, or AssertionError after ``timeout`` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while (message := await self.queue.get(no_ack=True, fail=False)) is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("nothing arrived on the tap")
            await asyncio.sleep(0.05)
        return message

    async def assert_empty(self, wait: float = 0.5) -> None:
        await asyncio.sleep(wait)
        assert await self.queue.get(no_ack=True, fail=False) is None


@asynccontextmanager
async def bus_tap(amqp_url: str, prefix: str, pattern: str) -> AsyncIterator[Tap]:
    """A private queue bound to the deployment's bus exchange with ``pattern`` (e.g. ``contact.routed.v1.*``)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(Topology(prefix).exchange)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=pattern)
        yield Tap(queue)


@asynccontextmanager
async def dead_letter_tap(amqp_url: str, prefix: str) -> AsyncIterator[Tap]:
    """The deployment's dead-letter queue (declared by a started Bus; deleted by ``cleanup_bus``)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        yield Tap(await channel.declare_queue(Topology(prefix).dead_letter_queue, passive=True))


@asynccontextmanager
async def migrated_database(url: str, migrate: Callable[[str], None]) -> AsyncIterator[Database]:
    """A started :class:`Database` on ``url`` after running the service's migrations on it."""
    await asyncio.to_thread(migrate, url)  # Alembic's env runs its own event loop
    database = Database(url)
    await database.open()
    try:
        yield database
    finally:
        await database.close()
