"""Per-process fan-outs (:class:`~priyom_contracts.FanoutSpec`), consumed without the queue consumers' treatment.

A fan-out carries what every process of a service must see at once and nobody needs later: a ringing phone
for the caller pop-up, a visitor typing, a client card changed. A queue consumer (:mod:`.consumers`) gives each
delivery an acknowledgement, the failure policy, per-queue metrics and a span, which buy nothing here (a
fan-out is never retried nor dead-lettered); faststream's full treatment cost about 0.15 ms of CPU per message
when fan-outs went through it: three call events per call in every tickets process. So, like identity's lookup
responder, a fan-out is one aio-pika callback on a channel of the bus's own connection: the body validated
into the handler's type, the handler awaited, a failure logged and the message dropped.

Each process's queue is its own: exclusive, auto-deleted, expiring and bounded (the spec's TTL and length),
consumed without acknowledgements (the broker counts a message delivered once sent): nothing an ack would
guard outlives the process, and an ack written back per message was a tenth of a pop-up's CPU. The queue is
named here (``<fan-out>.<random>``) rather than by the broker, so the robust channel can declare it again
under the same name after a reconnect (a broker-named ``amq.gen-…`` cannot be declared by a client).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from prometheus_client import CollectorRegistry, Counter

from priyom_contracts import Event, FanoutSpec

from .consumers import Handler, handler_parameters
from .logging import get_logger

log = get_logger("priyom.bus.fanout")

def event_type_of(handler: Handler) -> type[Event]:
    """The :class:`~priyom_contracts.Event` type a handler takes, from its one parameter's annotation."""
    event_type, with_message = handler_parameters(handler)
    if with_message:
        raise TypeError(f"a fan-out handler takes one Event parameter: {handler.__qualname__}")
    return event_type


class Fanouts:
    """The fan-out handlers of one process: registered while the app is built, consumed once the bus runs."""

    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self._handlers: dict[str, tuple[FanoutSpec, type[Event], Handler]] = {}
        self.dropped = Counter("priyom_fanout_dropped", "Fan-out messages a handler failed on (dropped, never "
                               "retried)", ["fanout"], registry=registry)

    def register(self, key: str, spec: FanoutSpec, handler: Handler) -> Handler:
        if len(spec.bindings) != 1:
            raise ValueError(f"fan-out {key} must have exactly one binding")
        if key in self._handlers:
            raise ValueError(f"fan-out {key} has a handler already")
        self._handlers[key] = (spec, event_type_of(handler), handler)
        return handler

    def registered(self) -> dict[str, tuple[FanoutSpec, type[Event]]]:
        """Key → (spec, message type) of every fan-out this process consumes (for the AsyncAPI document)."""
        return {key: (spec, event_type) for key, (spec, event_type, _) in self._handlers.items()}

    async def start(self, channel: AbstractChannel, exchange: str) -> None:
        """Declare this process's queue of each fan-out on ``channel``, bind it to ``exchange``, consume it."""
        for key, (spec, event_type, handler) in self._handlers.items():
            queue = await channel.declare_queue(
                f"{spec.purpose}.{self.service}.{uuid.uuid4().hex[:12]}", durable=False, exclusive=True,
                auto_delete=True, arguments={"x-message-ttl": spec.ttl_ms, "x-max-length": spec.max_length,
                                             "x-overflow": "drop-head"})
            await queue.bind(exchange, routing_key=spec.bindings[0])
            await queue.consume(self._deliverer(key, event_type, handler), no_ack=True)

    def _deliverer(self, key: str, event_type: type[Event], handler: Handler
                   ) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
        async def deliver(message: AbstractIncomingMessage) -> None:
            with structlog.contextvars.bound_contextvars(correlation_id=message.correlation_id or None):
                try:
                    await handler(event_type.model_validate_json(message.body))
                except Exception as exc:  # noqa: BLE001 - worthless by the time a retry would come: dropped
                    self.dropped.labels(key).inc()
                    log.warning("fan-out message dropped", fanout=key, error=type(exc).__name__)
        return deliver
