"""What only the holder of the PBX's AMI session can do, asked from any replica.

The PBX's AMI session is held by one replica, the one holding its lease (``app.py``); the console's requests
may reach any. Two need the holder: click-to-call (an Originate goes out on the session) and naming the
ticket of a call in progress (the call's state lives in the holder's tracker, fed by the session's events;
the database has it only as of the last save). While it holds the session, that replica consumes
``<prefix>intake-telephony.ami-holder``; another replica hands such a request over through that queue
(request/reply on the lookup's :class:`~priyom_kit.rpc.RpcClient`) and answers the console with the holder's
answer as if it were its own.

The queue is exclusive to the holder's connection and goes with it, and a request expires in it after
:data:`HOLDER_TTL_MS`: a request nobody holds the PBX for is dropped and answered 503, never served minutes
later when a replica takes over (an Originate would dial a customer who has long given up).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from priyom_kit import get_logger
from priyom_kit.broker_connection import close_within, connect_robust
from priyom_kit.rpc import RpcClient, RpcTimeout, answer

log = get_logger("priyom.intake-telephony.ami-holder")

#: How long a replica waits for the holder's answer, and how long a request waits in the queue for it.
HOLDER_WAIT_S = 5.0
HOLDER_TTL_MS = 5_000

#: Serves one kind of request on the holder: the request's body in, a JSON-ready answer out.
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class HolderRelay:
    def __init__(self, amqp_url: str, queue: str, handlers: Mapping[str, Handler], rpc: RpcClient) -> None:
        self.amqp_url = amqp_url
        self.queue = queue
        self.handlers = handlers
        self.rpc = rpc
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None

    async def serve(self) -> None:
        """This replica holds the PBX now: take the other replicas' requests, for as long as the task runs
        (cancel it when the PBX is let go). A broker that does not answer yet, or a queue the former holder's
        connection still has, is tried again every second: the AMI session must not end for it."""
        try:
            while True:
                try:
                    await self._consume()
                    break
                except Exception as exc:  # noqa: BLE001 - the broker restarts: the session goes on, we retry
                    log.warning("AMI holder relay not consuming yet", error=type(exc).__name__)
                    await self.stop()
                    await asyncio.sleep(1.0)
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def _consume(self) -> None:
        self._connection = await connect_robust(
            self.amqp_url, client_properties={"connection_name": "priyom-intake-telephony-ami-holder"})
        self._channel = await self._connection.channel(publisher_confirms=False)
        # Exclusive: RabbitMQ 4.3 refuses a transient queue that is not, and only the holder consumes it.
        queue = await self._channel.declare_queue(self.queue, durable=False, exclusive=True, auto_delete=True,
                                                  arguments={"x-message-ttl": HOLDER_TTL_MS})
        await queue.consume(self._on_request)

    async def stop(self) -> None:
        if self._connection is not None:
            connection, self._connection, self._channel = self._connection, None, None
            await close_within(connection, 5.0)  # the AMI session's hand-over must not wait on the broker

    async def _on_request(self, message: AbstractIncomingMessage) -> None:
        async with message.process(ignore_processed=True):
            request = json.loads(message.body)
            handler = self.handlers.get(request.get("kind"))
            reply = (await handler(request.get("body") or {}) if handler is not None
                     else {"error": f"unknown request kind {request.get('kind')!r}"})
            if self._channel is not None:
                await answer(self._channel, message, json.dumps(reply).encode())

    async def ask(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """The holder's answer to a ``kind`` request. ConnectionError when no replica holds the PBX."""
        try:
            reply = await self.rpc.request(self.queue, json.dumps({"kind": kind, "body": body}).encode(),
                                           timeout=HOLDER_WAIT_S)
        except RpcTimeout:
            raise ConnectionError("no replica holds the PBX's AMI session now") from None
        log.info("request handed to the PBX's session holder", kind=kind)
        return dict(json.loads(reply))


def plain(response: Any) -> list[dict[str, str]]:
    """panoramisk's answer (one message or several) as JSON-ready dicts."""
    return [{str(k): str(v) for k, v in dict(item).items()} for item in
            (response if isinstance(response, list) else [response])]


def originate_handler(send: Callable[[dict[str, str]], Awaitable[Any]]) -> Handler:
    """Click-to-call on the holder: the Originate on its session, the PBX's response back."""
    async def originate(action: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"responses": plain(await send({str(k): str(v) for k, v in action.items()}))}
        except (ConnectionError, TimeoutError) as exc:
            return {"error": f"PBX unreachable: {exc}"}
    return originate


async def originate_on_holder(relay: HolderRelay, action: dict[str, str]) -> list[dict[str, str]]:
    """Send ``action`` on the holder's session; the PBX's response. ConnectionError when no replica holds
    the PBX (or its session is down)."""
    reply = await relay.ask("originate", action)
    if "error" in reply:
        raise ConnectionError(reply["error"])
    log.info("click-to-call handed to the PBX's session holder", action_id=action.get("ActionID"))
    return list(reply["responses"])
