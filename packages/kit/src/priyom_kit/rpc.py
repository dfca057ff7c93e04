"""A request/reply client for latency-critical lookups (the caller pop-up asks identity while the phone rings).

faststream's ``broker.request`` serialises every request behind one lock and opens and cancels a consumer on
``amq.rabbitmq.reply-to`` for each call: three extra broker round trips and no concurrency. This client
consumes direct reply-to once per connection, matches replies to requests by correlation id, lets any number
of requests be in flight, and publishes requests without waiting for a publisher confirm (a lost request
shows up as a timeout, which the caller must handle anyway: the answer is useless once the call is over).

Replies are at-most-once, like direct reply-to itself. Use it for questions, never for commands.
"""

from __future__ import annotations

import asyncio
import uuid

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

from .broker_connection import connect_robust
from .deadlines import bounded
from .tracing import SpanKind, current_carrier, traced

DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"


async def answer(channel: AbstractChannel, request: AbstractIncomingMessage, body: bytes) -> None:
    """The responder's side: ``body`` to the request's ``reply_to`` with its ``correlation_id``, on a channel
    without publisher confirms and not persistent (a reply is at-most-once: direct reply-to does not survive
    the requester). Not mandatory: RabbitMQ returns direct reply-to publishes as unroutable even when it
    delivers them (verified on 3.10), and a requester that gave up is no error of the responder's either."""
    if request.reply_to:
        await channel.default_exchange.publish(
            aio_pika.Message(body, content_type="application/json", correlation_id=request.correlation_id,
                             delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT),
            routing_key=request.reply_to, mandatory=False)


class RpcTimeout(TimeoutError):
    """No reply within the timeout: the responder is down, slow, or the request was dropped."""


class RpcClient:
    """Ask a queue and await the answer. ``async with RpcClient(url) as rpc: body = await rpc.request(q, b)``."""

    def __init__(self, amqp_url: str, *, request_ttl_s: float = 10.0, name: str = "rpc") -> None:
        self.amqp_url = amqp_url
        self.name = name
        self.request_ttl_ms = int(request_ttl_s * 1000)
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._pending: dict[str, asyncio.Future[bytes]] = {}

    async def connect(self) -> None:
        self._connection = await connect_robust(
            self.amqp_url, client_properties={"connection_name": f"priyom-{self.name}"})
        self._channel = await self._connection.channel(publisher_confirms=False)
        await self._consume_replies()
        # The restored channel does not consume direct reply-to again (it is no declared queue): without this,
        # no reply ever came after a broker restart or a node stopping (found by `make cluster`).
        self._connection.reconnect_callbacks.add(self._consume_replies)

    async def close(self) -> None:
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        if self._connection is not None:
            await self._connection.close()
        self._connection = self._channel = None

    async def __aenter__(self) -> RpcClient:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def request(self, queue: str, body: bytes, *, timeout: float = 2.0,
                      content_type: str = "application/json") -> bytes:
        """Publish ``body`` to ``queue`` (default exchange) and return the reply's body.

        Raises :class:`RpcTimeout` when nothing answers within ``timeout`` seconds; the request also expires
        in the broker after ``request_ttl_s`` so a responder that comes back does not work through stale
        questions.
        """
        if self._channel is None:
            raise RuntimeError("RpcClient is not connected")
        correlation_id = uuid.uuid4().hex
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        try:
            with traced(f"{queue} request", SpanKind.CLIENT):  # the responder's span goes under it
                await self._channel.default_exchange.publish(
                    aio_pika.Message(body, content_type=content_type, correlation_id=correlation_id,
                                     reply_to=DIRECT_REPLY_TO, expiration=self.request_ttl_ms / 1000,
                                     delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
                                     headers=current_carrier()),
                    routing_key=queue,
                    mandatory=False,  # no confirms on this channel, so a return could not reach this call
                )
                return await bounded(future, timeout)
        except TimeoutError:
            raise RpcTimeout(f"no reply from {queue} within {timeout} s") from None
        finally:
            self._pending.pop(correlation_id, None)

    async def _consume_replies(self, *_: object) -> None:
        """Consume direct reply-to on the channel: at connect, and again on the channel restored after a
        reconnect."""
        assert self._channel is not None
        replies = await self._channel.get_queue(DIRECT_REPLY_TO, ensure=False)
        await replies.consume(self._on_reply, no_ack=True)

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.get(message.correlation_id or "")
        if future is not None and not future.done():
            future.set_result(message.body)
