"""RpcClient against the real RabbitMQ: replies matched by correlation id, many in flight, timeouts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from priyom_kit.rpc import RpcClient, RpcTimeout


@asynccontextmanager
async def responding(amqp_url: str, reply: Callable[[AbstractIncomingMessage], Awaitable[bytes]]
                     ) -> AsyncIterator[str]:
    """A queue whose requests ``reply`` answers, as identity's lookup responder does; yields its name."""
    queue_name = f"test-rpc-{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, auto_delete=True)

        async def respond(message: AbstractIncomingMessage) -> None:
            async with message.process():
                await channel.default_exchange.publish(
                    aio_pika.Message(await reply(message), correlation_id=message.correlation_id),
                    routing_key=message.reply_to or "", mandatory=False)

        await queue.consume(respond)
        yield queue_name


async def test_concurrent_requests_get_their_own_replies_and_silence_times_out(amqp_url: str) -> None:
    async def upper(message: AbstractIncomingMessage) -> bytes:
        await asyncio.sleep(0.05 if message.body == b"slow" else 0)  # replies come back out of order
        return message.body.upper()

    async with responding(amqp_url, upper) as queue_name, RpcClient(amqp_url) as rpc:
        bodies = [b"slow"] + [f"ask-{n}".encode() for n in range(30)]
        replies = await asyncio.gather(*(rpc.request(queue_name, body, timeout=10) for body in bodies))
        assert replies == [body.upper() for body in bodies]
        with pytest.raises(RpcTimeout):
            await rpc.request(f"{queue_name}-nobody", b"hello", timeout=0.3)
        assert rpc._pending == {}, "answered and timed-out requests leave nothing behind"
