"""RpcClient against the real RabbitMQ: replies matched by correlation id, many in flight, timeouts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from priyom_kit.rpc import RpcClient, RpcTimeout, answer
from priyom_testing.broker_cut import CANNOT_CUT, cut_connections


@asynccontextmanager
async def responding(amqp_url: str, reply: Callable[[AbstractIncomingMessage], Awaitable[bytes]]
                     ) -> AsyncIterator[str]:
    """A queue whose requests ``reply`` answers with the kit's :func:`answer`, as identity's lookup responder
    does; yields its name."""
    queue_name = f"test-rpc-{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, auto_delete=True)

        async def respond(message: AbstractIncomingMessage) -> None:
            async with message.process():
                await answer(channel, message, await reply(message))

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


@pytest.mark.skipif(CANNOT_CUT is not None, reason=CANNOT_CUT or "")
async def test_replies_come_again_after_the_clients_connection_is_cut(amqp_url: str) -> None:
    """A broker node stopping (or restarting) cuts the client's connection: once it is back, so are the
    replies (direct reply-to needs its consumer again on the new channel)."""
    async def echo(message: AbstractIncomingMessage) -> bytes:
        return message.body

    name = f"rpc-cut-{uuid.uuid4().hex[:8]}"
    async with responding(amqp_url, echo) as queue, RpcClient(amqp_url, name=name) as rpc:
        assert await rpc.request(queue, b"before", timeout=5) == b"before"
        assert await asyncio.to_thread(cut_connections, name), "the client's connection is listed"
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            try:
                assert await rpc.request(queue, b"after", timeout=1) == b"after"
                break
            except (RpcTimeout, aio_pika.exceptions.AMQPError, RuntimeError):
                assert asyncio.get_running_loop().time() < deadline, "no reply since the connection was cut"
                await asyncio.sleep(0.2)
