"""Click-to-call from any replica.

The PBX's AMI session is held by one replica, the one holding its lease (``app.py``); the console's
click-to-call may reach any. While it holds the session, that replica consumes
``<prefix>intake-telephony.originate`` and sends each Originate it gets there on its session; another replica
hands its Originate over through that queue (request/reply on the lookup's :class:`~priyom_kit.rpc.RpcClient`)
and answers the console with the PBX's response as if it had sent it itself.

The queue is transient and goes with the holder's consumer, and a request expires in it after
:data:`ORIGINATE_TTL_MS`: an Originate nobody holds the PBX for is dropped and answered 503, never dialled
minutes later when a replica takes over.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from priyom_kit import get_logger
from priyom_kit.broker_connection import close_within, connect_robust
from priyom_kit.rpc import RpcClient, RpcTimeout

log = get_logger("priyom.intake-telephony.originate")

#: How long a replica waits for the holder's answer, and how long a request waits in the queue for it.
ORIGINATE_WAIT_S = 5.0
ORIGINATE_TTL_MS = 5_000


def _plain(response: Any) -> list[dict[str, str]]:
    """panoramisk's answer (one message or several) as JSON-ready dicts."""
    return [{str(k): str(v) for k, v in dict(item).items()} for item in
            (response if isinstance(response, list) else [response])]


class OriginateRelay:
    def __init__(self, amqp_url: str, queue: str, send: Callable[[dict[str, str]], Awaitable[Any]],
                 rpc: RpcClient) -> None:
        self.amqp_url = amqp_url
        self.queue = queue
        self.send = send
        self.rpc = rpc
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None

    async def serve(self) -> None:
        """This replica holds the PBX now: take the other replicas' Originates, for as long as the task
        runs (cancel it when the PBX is let go). A broker that does not answer yet is tried again every
        second: the AMI session must not end for it."""
        try:
            while self._connection is None:
                try:
                    self._connection = await connect_robust(
                        self.amqp_url, client_properties={"connection_name": "priyom-intake-telephony-originate"})
                except Exception as exc:  # noqa: BLE001 - the broker restarts: the session goes on, we retry
                    log.warning("click-to-call relay not consuming yet", error=type(exc).__name__)
                    await asyncio.sleep(1.0)
            self._channel = await self._connection.channel(publisher_confirms=False)
            queue = await self._channel.declare_queue(self.queue, durable=False, auto_delete=True,
                                                      arguments={"x-message-ttl": ORIGINATE_TTL_MS})
            await queue.consume(self._on_request)
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self._connection is not None:
            connection, self._connection, self._channel = self._connection, None, None
            await close_within(connection, 5.0)  # the AMI session's hand-over must not wait on the broker

    async def _on_request(self, message: AbstractIncomingMessage) -> None:
        async with message.process(ignore_processed=True):
            try:
                reply: dict[str, Any] = {"responses": _plain(await self.send(json.loads(message.body)))}
            except (ConnectionError, TimeoutError) as exc:
                reply = {"error": f"PBX unreachable: {exc}"}
            if self._channel is not None and message.reply_to:
                await self._channel.default_exchange.publish(
                    aio_pika.Message(json.dumps(reply).encode(), correlation_id=message.correlation_id,
                                     content_type="application/json"),
                    routing_key=message.reply_to, mandatory=False)

    async def forward(self, action: dict[str, str]) -> list[dict[str, str]]:
        """Send ``action`` on the holder's session; the PBX's response. ConnectionError when no replica holds
        the PBX (or its session is down)."""
        try:
            body = await self.rpc.request(self.queue, json.dumps(action).encode(), timeout=ORIGINATE_WAIT_S)
        except RpcTimeout:
            raise ConnectionError("no replica holds the PBX's AMI session now") from None
        reply = json.loads(body)
        if "error" in reply:
            raise ConnectionError(reply["error"])
        log.info("click-to-call handed to the PBX's session holder", action_id=action.get("ActionID"))
        return list(reply["responses"])
