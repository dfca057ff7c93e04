"""The consumers of a service's topology queues, on aio-pika directly: a delivery read, handed to its typed
handler, acknowledged, or given to the failure policy.

faststream consumed them at first. For each delivery it built a message object and a stack of middlewares
anew, ran its logging and acknowledgement middlewares, the context repository and fast_depends' call model:
4-8% of identity's, the router's and tickets' CPU a contact at saturation (py-spy, ``bench/e2e.py``), for what
the few steps of :meth:`QueueConsumer.deliver` do. What a delivery gets is unchanged:

* its body validated into the handler's type (a queue bound to several types has one handler per AMQP
  ``type``; a type no handler takes is a permanent failure, saying so);
* its ``correlation_id`` (the contact's id) and ``message_id`` on every line logged while it is handled;
* counted received, timed and counted by outcome (:mod:`.delivery_metrics`, under faststream's names);
* a span, child of the publisher's, when tracing is on (:func:`.tracing.traced`, as the lookup's responder);
* acknowledged once the handler returned; on a failure the bus's policy retries or dead-letters it and then
  it is acknowledged, and should the policy fail too (the broker gone) it is rejected back to its queue;
* on stop, the consumer cancelled and the deliveries in hand finished (the stop is bounded:
  :func:`.broker_connection.stop_within`).

The dead letters' keeper (:meth:`Consumers.keep_dead_letters`, one service's) is consumed the same way, with two
differences: it is handed the body as it arrived, since what an intake kept whole (a mail, an unreadable update)
may be no JSON at all, and it acknowledges each letter itself once stored; should it fail, the letter goes back
to its queue after a pause (:class:`BackToQueue`), never to the failure policy, which would dead-letter a dead
letter.

Each queue is consumed on the bus's channel, whose prefetch bounds the deliveries in hand per queue, and the
channel is aio-pika's robust one: after a reconnect it declares the queue and consumes it again. faststream
still publishes and describes the publishers in the AsyncAPI document; ``scripts/export_docs.py`` describes
these queues from :meth:`Consumers.registered`.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, ConsumerTag
from opentelemetry.trace import SpanKind

from priyom_contracts import Event, QueueSpec

from .delivery_metrics import DeliveryMetrics
from .errors import PermanentError
from .logging import get_logger
from .tracing import traced

log = get_logger("priyom.bus")

#: ``async def on(event: SomeEvent) -> None``, or ``async def on(event: SomeEvent, message) -> None`` for a
#: handler that reads the delivery itself (its headers): ``message`` is aio-pika's incoming message.
Handler = Callable[..., Awaitable[Any]]
#: ``async def keep(body: bytes, message) -> None``: the dead letters' keeper, which acknowledges ``message`` itself.
Keeper = Callable[[bytes, AbstractIncomingMessage], Awaitable[Any]]
#: ``(raw message, queue name, exception) -> whether the delivery may be acknowledged`` (``Bus._handle_failure``).
FailurePolicy = Callable[[AbstractIncomingMessage, str, Exception], Awaitable[bool]]


def handler_parameters(handler: Handler) -> tuple[type[Event], bool]:
    """The :class:`~priyom_contracts.Event` type a handler takes (its first parameter's annotation), and
    whether it takes the delivery as a second parameter."""
    names = [name for name in inspect.signature(handler).parameters]
    hints = typing.get_type_hints(handler)
    event_type = hints.get(names[0]) if names else None
    if not (1 <= len(names) <= 2 and isinstance(event_type, type) and issubclass(event_type, Event)):
        raise TypeError(f"a handler takes one Event parameter, and maybe the delivery: {handler.__qualname__}")
    return event_type, len(names) == 2


@dataclass(frozen=True)
class Route:
    """One message type's handler on a queue."""

    event_type: type[Event]
    handler: Handler
    with_message: bool
    #: Acknowledged by the consumer once the handler returned.
    settles_itself: ClassVar[bool] = False

    async def __call__(self, message: AbstractIncomingMessage) -> None:
        event = self.event_type.model_validate_json(message.body)
        await (self.handler(event, message) if self.with_message else self.handler(event))


@dataclass(frozen=True)
class KeeperRoute:
    """The dead letters' keeper: the body undecoded, and the delivery, which the keeper acknowledges itself."""

    handler: Keeper
    event_type: ClassVar[None] = None
    settles_itself: ClassVar[bool] = True

    async def __call__(self, message: AbstractIncomingMessage) -> None:
        await self.handler(message.body, message)


class QueueConsumer:
    """The handlers of one topology queue, by message type, and the deliveries in hand."""

    def __init__(self, spec: QueueSpec, metrics: DeliveryMetrics, on_failure: FailurePolicy, *,
                 traced: bool) -> None:
        self.spec = spec
        self.routes: dict[str, Route | KeeperRoute] = {}
        self._metrics = metrics
        self._on_failure = on_failure
        self._traced = traced
        self._queue: AbstractQueue | None = None
        self._tag: ConsumerTag | None = None
        self._in_hand: set[asyncio.Task[Any]] = set()

    def add(self, handler: Handler, event_type: type[Event] | None) -> None:
        taken, with_message = handler_parameters(handler)
        event_type = event_type or taken
        name = event_type.type_name()
        if name in self.routes:
            raise ValueError(f"{self.spec.name} has a handler for {name} already")
        self.routes[name] = Route(event_type, handler, with_message)

    def _route(self, message: AbstractIncomingMessage) -> Route | KeeperRoute:
        if len(self.routes) == 1:  # a queue of one type: whatever it holds is read as that type
            return next(iter(self.routes.values()))
        route = self.routes.get(message.type or "")
        if route is None:
            raise PermanentError(f"{self.spec.name} has no handler for message type {message.type!r}")
        return route

    async def start(self, queue: AbstractQueue) -> None:
        self._queue = queue
        self._tag = await queue.consume(self.deliver)

    async def stop(self) -> None:
        """Cancel the consumer, then wait for the deliveries in hand (their acks go before the channel closes)."""
        if self._queue is not None and self._tag is not None and not self._queue.channel.is_closed:
            await self._queue.cancel(self._tag)
        self._queue = self._tag = None
        if self._in_hand:
            await asyncio.wait(set(self._in_hand))

    async def deliver(self, message: AbstractIncomingMessage) -> None:
        """One delivery, start to finish (aio-pika runs each in a task of its own)."""
        task = asyncio.current_task()
        if task is not None:
            self._in_hand.add(task)
        label = f"{message.exchange or 'default'}.{message.routing_key}"
        received, duration = self._metrics.series(label)
        received.inc()
        tokens = structlog.contextvars.bind_contextvars(correlation_id=message.correlation_id or None,
                                                        message_id=message.message_id or None)
        started = time.perf_counter()
        status = "error"
        try:
            if self._traced:
                with traced(f"{label} process", SpanKind.CONSUMER, message.headers):
                    status = await self._handle(message)
            else:
                status = await self._handle(message)
        finally:
            duration.observe(time.perf_counter() - started)
            self._metrics.handled(label, status).inc()
            structlog.contextvars.reset_contextvars(**tokens)
            if task is not None:
                self._in_hand.discard(task)

    async def _handle(self, message: AbstractIncomingMessage) -> str:
        """The handler run and the delivery settled; its outcome as faststream's metrics name it."""
        try:
            route = self._route(message)
            await route(message)
        except Exception as exc:  # noqa: BLE001 - the failure policy decides: retried or dead-lettered
            await self._failed(message, exc)
            return "error"
        if not route.settles_itself:
            await _settle(message.ack())
        return "acked"

    async def _failed(self, message: AbstractIncomingMessage, exc: Exception) -> None:
        try:
            settled = await self._on_failure(message, self.spec.name, exc)
        except Exception as policy_exc:  # noqa: BLE001 - back to its queue, to be delivered again
            log.warning("failure policy failed, the delivery goes back to its queue", queue=self.spec.name,
                        error=type(policy_exc).__name__)
            settled = False
        await _settle(message.ack() if settled else message.nack(requeue=True))


class BackToQueue:
    """The keeper's failure policy: the letter back to its queue (a keeper that cannot store a letter holds it
    and tries again rather than fail, so this is a bug's way out, and it is logged as one).

    Not at once: a keeper failing on every letter would have them delivered, failed and requeued in a loop that
    takes a core and floods the log. Each failure holds its letter for a pause before it goes back: ``first_s``
    after a failure that follows none in the last ``longest_s``, doubling with each failure in a row up to
    ``longest_s``. Held, a letter stays the broker's (unacknowledged), so a stop or a lost channel in the pause
    gives it back all the same."""

    def __init__(self, first_s: float = 1.0, longest_s: float = 30.0, *,
                 pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._first_s, self._longest_s = first_s, longest_s
        self._pause, self._clock = pause, clock
        self._next_s = first_s
        self._last = float("-inf")

    async def __call__(self, message: AbstractIncomingMessage, queue: str, exc: Exception) -> bool:
        now = self._clock()
        if now - self._last > self._longest_s:
            self._next_s = self._first_s  # the first failure in a while
        self._last = now
        wait, self._next_s = self._next_s, min(self._longest_s, self._next_s * 2)
        log.error("the dead letters' keeper failed, the letter goes back to its queue", queue=queue,
                  error=type(exc).__name__, back_in_s=wait)
        await self._pause(wait)
        return False


async def _settle(outcome: Awaitable[None]) -> None:
    """An ack or a reject; one the channel can no longer take is moot: the broker gives the delivery back."""
    try:
        await outcome
    except Exception as exc:  # noqa: BLE001 - a closed channel returns its unacknowledged deliveries
        log.warning("could not settle a delivery, the broker will deliver it again", error=type(exc).__name__)


class Consumers:
    """The queue consumers of one process: registered while the app is built, started once the bus runs."""

    def __init__(self, metrics: DeliveryMetrics, on_failure: FailurePolicy, *, traced: bool = False) -> None:
        self._metrics = metrics
        self._on_failure = on_failure
        self._traced = traced
        self._queues: dict[str, QueueConsumer] = {}

    def register(self, key: str, spec: QueueSpec, handler: Handler, event_type: type[Event] | None) -> Handler:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = QueueConsumer(spec, self._metrics, self._on_failure, traced=self._traced)
        queue.add(handler, event_type)
        return handler

    def keep_dead_letters(self, spec: QueueSpec, keeper: Keeper) -> Keeper:
        """Register the deployment's one keeper of dead letters, consumed from ``spec`` (see the module)."""
        if spec.name in self._queues:
            raise ValueError(f"{spec.name} has a keeper already")
        consumer = self._queues[spec.name] = QueueConsumer(spec, self._metrics, BackToQueue(), traced=self._traced)
        consumer.routes[""] = KeeperRoute(keeper)
        return keeper

    def registered(self) -> dict[str, QueueConsumer]:
        """Key (``identity.contacts``; the keeper's, its queue's name) → its consumer, with its spec and routes (for
        the AsyncAPI document, the queues' depth and the watch over their consumers)."""
        return dict(self._queues)

    async def start(self, queue_of: Callable[[QueueSpec], Awaitable[AbstractQueue]]) -> None:
        for consumer in self._queues.values():
            await consumer.start(await queue_of(consumer.spec))

    async def stop(self) -> None:
        await asyncio.gather(*(consumer.stop() for consumer in self._queues.values()))
