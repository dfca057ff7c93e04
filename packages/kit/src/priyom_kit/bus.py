"""The one way a service talks to RabbitMQ: declare the topology, publish confirmed, consume safely.

faststream's defaults lose messages (transient publishes, unroutable publishes that do not raise, unlimited
prefetch, reject-on-error with no retry). :class:`Bus` fixes each of them once for every service:

* publishes are persistent, mandatory and confirmed, and an unroutable publish raises;
* prefetch is bounded (it is also the handler concurrency);
* every service declares the whole topology at start, so no publish can race a consumer's first start;
* a failed delivery is retried through a per-queue delay queue with an attempt counter kept in a header
  (RabbitMQ's own delivery count changed meaning in 4.3), and after the last attempt, or at once for a
  message that can never succeed, it goes to the dead-letter queue with ``x-error`` saying why;
* what arrived at a channel but can never become a message goes to the same queue with the same headers
  (:meth:`Bus.dead_letter`);
* one service keeps the dead letters for a person (:meth:`Bus.dead_letter_consumer`), who puts one back
  after a fix (:meth:`Bus.redeliver`).
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faststream.middlewares import AckPolicy
from faststream.rabbit import Channel, ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from priyom_contracts import Event, QueueSpec, Topology, journal_bindings

from .broker_connection import broker_addresses, failover_connection, named_url, stop_within
from .bus_metrics import SAMPLE_EVERY_S, BusMetrics
from .consumer_watch import ConsumerWatch, reconnect
from .consumers import Consumers, Handler, Keeper
from .delivery_metrics import DeliveryMetrics
from .errors import PermanentError
from .fanouts import Fanouts
from .legacy_queues import remove_if_empty
from .logging import get_logger
from .periodic import Periodic
from .settings import ServiceSettings
from .tracing import bus_middlewares, tracing_enabled

if TYPE_CHECKING:
    from aio_pika import IncomingMessage
    from faststream.rabbit.publisher import RabbitPublisher

log = get_logger("priyom.bus")

#: What a service's code is given to publish with (``Bus.publish``, or a test's collector): one alias for all.
Publish = Callable[[Event], Awaitable[None]]

ATTEMPT_HEADER = "x-priyom-attempt"
#: Broker-side backstop above our own attempt counter: only reached if the service crashes mid-retry.
BROKER_DELIVERY_LIMIT = 20
#: Retention of the journal stream (a broker limit, whichever is reached first).
JOURNAL_MAX_AGE = "7D"
JOURNAL_MAX_BYTES = 5 * 1024**3
#: Failures that a retry cannot fix: the message itself is wrong.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    PermanentError,
    ValidationError,
    json.JSONDecodeError,
    UnicodeDecodeError,
)
#: Headers that describe a failure, ours (``_failure_headers``) and the broker's own (``x-death``, when a
#: queue's delivery limit dead-lettered a message): a redelivered dead letter starts again without them.
#: ``x-original-routing-key`` is not among them: like a retry, a redelivery keeps the key it was published with.
FAILURE_HEADERS = frozenset({"x-error", "x-error-kind", "x-attempts", "x-original-queue", "x-failed-at",
                             "x-failed-by", ATTEMPT_HEADER, "x-death", "x-first-death-exchange",
                             "x-first-death-queue", "x-first-death-reason", "x-last-death-exchange",
                             "x-last-death-queue", "x-last-death-reason", "x-delivery-count"})


class Bus:
    """A service's connection to the bus. Build it in the service's ``app.py``; start it in the lifespan."""

    def __init__(self, settings: ServiceSettings, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self.max_attempts = settings.max_attempts
        self.retry_delay_ms = settings.retry_delay_ms
        self.publish_timeout_s = settings.publish_timeout_s
        self.topology = Topology(settings.bus_prefix)
        self.exchange = RabbitExchange(self.topology.exchange, type=ExchangeType.TOPIC, durable=True)
        self.dead_letter_exchange = RabbitExchange(
            self.topology.dead_letter_exchange, type=ExchangeType.TOPIC, durable=True
        )
        addresses = [named_url(address, service) for address in broker_addresses(settings.amqp_url.get_secret_value())]
        self.broker = RabbitBroker(
            addresses[0],
            default_channel=Channel(prefetch_count=settings.prefetch, on_return_raises=True),
            ack_policy=AckPolicy.NACK_ON_ERROR,
            graceful_timeout=15,
            # Tracing's puts the trace context on every publish (the queues' consumers are the kit's: .consumers).
            middlewares=bus_middlewares(settings),
            # A stdlib logger, not a structlog one: faststream logs every message at debug, and stdlib drops
            # a line below the level before building anything (structlog's wrapper builds the event first).
            # What is kept goes through the same masked renderer (configure_logging's foreign_pre_chain).
            logger=logging.getLogger(f"priyom.{service}.faststream"),
            log_level=logging.DEBUG,  # one line per message is noise at INFO; failures are logged here
        )
        # faststream passes its connection arguments to aio_pika.connect_robust; the class is one of them.
        # Pinned by packages/kit/tests/test_broker_failover.py.
        self.broker._connection_kwargs["connection_class"] = failover_connection(addresses)
        self._publishers: dict[str, RabbitPublisher] = {}
        self.metrics = BusMetrics(registry)
        self.consumers = Consumers(DeliveryMetrics(registry, service), self._handle_failure,
                                   traced=tracing_enabled(settings))
        self._specs_by_queue = {spec.name: spec for spec in self.topology.queues.values()}
        self._sampling_channel = Channel(publisher_confirms=False)
        self._depth_sampler = Periodic(f"{service}-queue-depth", self._sample_queues, every_s=SAMPLE_EVERY_S)
        self._consumer_watch = ConsumerWatch()
        self.fanouts = Fanouts(service, registry)
        self._fanout_channel = Channel(publisher_confirms=False)
        #: The connection ``start`` opened, closed by ``stop`` even when the consumers do not stop in time.
        self._connection: Any = None

    # -- topology ---------------------------------------------------------------------------------------

    def rabbit_queue(self, spec: QueueSpec) -> RabbitQueue:
        """The durable quorum queue of a consumer, with the arguments every declarer must agree on."""
        return RabbitQueue(
            spec.name,
            durable=True,
            queue_type=QueueType.QUORUM,
            routing_key=spec.bindings[0],
            arguments={
                "x-dead-letter-exchange": self.topology.dead_letter_exchange,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
                "x-delivery-limit": BROKER_DELIVERY_LIMIT,
            },
        )

    def retry_queue(self, spec: QueueSpec) -> RabbitQueue:
        """Where a failed delivery waits its delay (the message's own expiration), then goes back by the
        default exchange to the one queue that failed it. A quorum queue, replicated like the queue itself:
        a retry waiting on a node that stops is not lost. At-least-once dead-lettering (which needs
        reject-publish overflow): the move back is confirmed by the queue it goes to, not fire-and-forget."""
        return RabbitQueue(
            spec.retry_name,
            durable=True,
            queue_type=QueueType.QUORUM,
            arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": spec.name,
                       "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"},
        )

    async def declare(self) -> None:
        """Declare every exchange and queue of the deployment. Idempotent; each service runs it at start."""
        exchange = await self.broker.declare_exchange(self.exchange)
        dlx = await self.broker.declare_exchange(self.dead_letter_exchange)
        dead = await self.broker.declare_queue(self._dead_letter_queue())
        await dead.bind(dlx, routing_key="#")
        journal = await self.broker.declare_queue(
            RabbitQueue(self.topology.journal_queue, durable=True, queue_type=QueueType.STREAM,
                        arguments={"x-max-age": JOURNAL_MAX_AGE, "x-max-length-bytes": JOURNAL_MAX_BYTES})
        )
        # Only what names no person (an erasure cannot reach into a stream); a journal declared before that
        # was bound to everything, and loses that binding here.
        await journal.unbind(exchange, routing_key="#")
        for pattern in journal_bindings():
            await journal.bind(exchange, routing_key=pattern)
        for spec in self.topology.queues.values():
            queue = await self.broker.declare_queue(self.rabbit_queue(spec))
            for pattern in spec.bindings:
                await queue.bind(exchange, routing_key=pattern)
            await self.broker.declare_queue(self.retry_queue(spec))
            await remove_if_empty(self._connection, spec.legacy_retry_name)

    def _dead_letter_queue(self) -> RabbitQueue:
        return RabbitQueue(self.topology.dead_letter_queue, durable=True, queue_type=QueueType.QUORUM)

    # -- consuming ------------------------------------------------------------------------------------

    def consumer(self, key: str, event_type: type[Event] | None = None) -> Callable[[Handler], Handler]:
        """Decorator registering the handler of one topology queue (e.g. ``"identity.contacts"``): an
        ``async def on(event: SomeEvent) -> None`` (see :mod:`.consumers`).

        A queue bound to several message types (``"router.tickets"``) gets one typed handler per type:
        ``@bus.consumer("router.tickets", TicketCreated)``. Each delivery goes to the handler of its AMQP
        ``type``; one of a type no handler takes is dead-lettered at once, saying so.
        """
        spec = self.topology.queue(key)
        return lambda handler: self.consumers.register(key, spec, handler, event_type)

    def fanout_consumer(self, key: str) -> Callable[[Handler], Handler]:
        """Decorator registering the handler of a per-process fan-out (e.g. ``"tickets.calls"``): an
        ``async def on(event: SomeEvent) -> None``, consumed outside faststream (see :mod:`.fanouts`); a
        failure is logged and the message dropped, never retried or dead-lettered."""
        spec = self.topology.fanout(key)
        return lambda handler: self.fanouts.register(key, spec, handler)

    def dead_letter_consumer(self) -> Callable[[Keeper], Keeper]:
        """Decorator registering the deployment's one keeper of dead letters (tickets, which shows them to a
        person): ``async def keep(body: bytes, message: AbstractIncomingMessage)``.

        The body arrives undecoded, because what an intake kept whole (a mail, an unreadable update) may be
        no JSON at all. The keeper acknowledges itself (``await message.ack()``) once the letter is stored:
        a dead letter has nowhere further to go, so nothing here retries or dead-letters it, and a keeper
        that cannot store it must wait and try again while holding it rather than fail (one that fails all
        the same has its letter put back in the queue: :mod:`.consumers`).
        """
        spec = QueueSpec(self.topology.dead_letter_queue, ("#",))
        return lambda keeper: self.consumers.keep_dead_letters(spec, keeper)

    # -- publishing -----------------------------------------------------------------------------------

    def publisher(self, event_type: type[Event]) -> RabbitPublisher:
        """The documented publisher of one message type (it appears in the AsyncAPI document)."""
        name = event_type.type_name()
        if name not in self._publishers:
            self._publishers[name] = self.broker.publisher(
                exchange=self.exchange,
                routing_key=f"{name}.*",
                title=f"{self.topology.exchange}:{name}",
                schema=event_type,
                persist=True,
                mandatory=True,
            )
        return self._publishers[name]

    async def publish(self, event: Event, *, durable: bool = True, timeout_s: float | None = None) -> None:
        """Publish persistent, mandatory and confirmed; returns only once the broker has the message.
        ``durable=False`` is a signal's way (:mod:`.signals`): transient, and dropped when nobody listens."""
        await self.publisher(type(event)).publish(
            event,
            routing_key=event.routing_key,
            message_id=str(event.message_id),
            correlation_id=str(event.correlation_id),
            message_type=event.type_name(),
            timestamp=event.occurred_at,
            headers={"x-idempotency-key": event.idempotency_key},
            persist=durable,
            mandatory=durable,
            timeout=timeout_s or self.publish_timeout_s,
        )
        self.metrics.published.labels(event.type_name(), event.channel).inc()

    # -- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._connection = await self.broker.connect()
        await self.declare()
        await self.broker.start()
        # Each queue was declared on the bus's channel above (faststream keeps the object); it is consumed there.
        await self.consumers.start(self._declared_queue)
        await self.fanouts.start(await self.broker.config.channel_manager.get_channel(self._fanout_channel),
                                 self.topology.exchange)
        self._depth_sampler.start()

    async def stop(self) -> None:
        """Stop consuming and close the connection, bounded (see :mod:`.broker_connection`)."""
        await stop_within(self._stop_consuming, self._connection, self.service, first=self._depth_sampler.stop)
        self._connection = None

    async def _declared_queue(self, spec: QueueSpec) -> Any:
        dead_letters = spec.name == self.topology.dead_letter_queue
        return await self.broker.declare_queue(self._dead_letter_queue() if dead_letters else self.rabbit_queue(spec))

    async def _stop_consuming(self) -> None:
        await self.consumers.stop()
        await self.broker.stop()

    async def _sample_queues(self) -> None:
        # On a channel of its own: a look that times out or fails closes that one, never the publishing one.
        channel = await self.broker.config.channel_manager.get_channel(self._sampling_channel)
        names = [consumer.spec.name for consumer in self.consumers.registered().values()]
        consumers = await self.metrics.sample_queues(names, channel, timeout=self.publish_timeout_s)
        if lost := self._consumer_watch.lost(consumers):
            await reconnect(self._connection, self.service, lost)

    async def ping(self, timeout: float = 2.0) -> bool:
        return await self.broker.ping(timeout)

    # -- dead letters ---------------------------------------------------------------------------------

    async def dead_letter(self, body: bytes, reason: str, source: str, *, routing_key: str,
                          content_type: str = "application/json") -> None:
        """Keep something that arrived but can never become a message (an unreadable update, a MIME bomb)
        whole in the dead-letter queue, confirmed, with the headers a failed delivery gets there.

        It never was on the bus, so the failure policy cannot dead-letter it. ``source`` (``smtp``,
        ``imap:<mailbox>``, ``telegram``) stands where a failed delivery names its queue; ``routing_key`` is
        the one it would have been published with, so a person can read it and replay it. Confirm it to the
        sender only after this returned, like a publish.
        """
        headers = self._failure_headers(reason, kind="permanent", attempts=1, queue=source)
        headers["x-original-routing-key"] = routing_key
        await self.broker.publish(
            body, exchange=self.dead_letter_exchange, routing_key=routing_key, content_type=content_type,
            headers=headers, persist=True, mandatory=True, timeout=self.publish_timeout_s,
        )
        self.metrics.dead_lettered.labels(source, "permanent").inc()

    async def redeliver(self, body: bytes, *, queue: str, headers: dict[str, Any], content_type: str | None,
                        message_id: str | None, correlation_id: str | None, message_type: str | None,
                        timestamp: datetime | None = None) -> None:
        """Put a dead letter back on the consumer queue that gave up on it, confirmed, as it was published but
        without the failure headers, so it starts again at attempt one.

        Only that queue gets it (the default exchange routes by queue name, as a retry does): the other
        subscribers of its routing key had it already. Raises when the queue no longer exists.
        """
        await self.broker.publish(
            body, exchange=None, routing_key=queue,
            headers={name: value for name, value in headers.items() if name not in FAILURE_HEADERS},
            content_type=content_type, message_id=message_id, correlation_id=correlation_id,
            message_type=message_type, timestamp=timestamp, persist=True, mandatory=True,
            timeout=self.publish_timeout_s,
        )

    # -- failures -------------------------------------------------------------------------------------

    async def _handle_failure(self, raw: IncomingMessage, queue_name: str, exc: BaseException) -> bool:
        """Retry or dead-letter one failed delivery. Returns True when the delivery may be acknowledged."""
        spec = self._specs_by_queue.get(queue_name)
        if spec is None:
            return False  # not a topology queue: the consumer rejects it back to where it came from
        headers = dict(raw.headers or {})
        attempt = int(headers.get(ATTEMPT_HEADER, 1))  # type: ignore[call-overload]
        # After a retry the delivery's routing key is the queue's name; keep the one it was published with.
        routing_key = str(headers.setdefault("x-original-routing-key", raw.routing_key or queue_name))
        permanent = isinstance(exc, PERMANENT_ERRORS)
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        if permanent or attempt >= self.max_attempts:
            kind = "permanent" if permanent else "attempts-exhausted"
            headers.update(self._failure_headers(reason, kind=kind, attempts=attempt, queue=queue_name))
            await self._republish(raw, headers, exchange=self.dead_letter_exchange,
                                  routing_key=routing_key)
            self.metrics.dead_lettered.labels(queue_name, kind).inc()
            log.error("dead-lettered", queue=queue_name, message_id=raw.message_id, attempts=attempt,
                      error=reason, where="".join(traceback.format_exception(exc, limit=-2)[-3:]).strip())
            return True
        headers[ATTEMPT_HEADER] = attempt + 1
        delay_ms = self.retry_delay_ms * 2 ** (attempt - 1)
        await self._republish(raw, headers, exchange=None, routing_key=spec.retry_name,
                              expiration=delay_ms / 1000)
        log.warning("retry scheduled", queue=queue_name, message_id=raw.message_id, attempt=attempt,
                    delay_ms=delay_ms, error=reason)
        return True

    def _failure_headers(self, reason: str, *, kind: str, attempts: int, queue: str) -> dict[str, Any]:
        """What a dead letter says about its failure; ``kind`` is ``permanent`` or ``attempts-exhausted``."""
        return {"x-error": reason[:2000], "x-error-kind": kind, "x-attempts": attempts, "x-original-queue": queue,
                "x-failed-at": datetime.now(UTC).isoformat(), "x-failed-by": self.service}

    async def _republish(self, raw: IncomingMessage, headers: dict[str, Any], *,
                         exchange: RabbitExchange | None, routing_key: str,
                         expiration: float | None = None) -> None:
        await self.broker.publish(
            raw.body,
            exchange=exchange,
            routing_key=routing_key,
            headers=headers,
            content_type=raw.content_type,
            message_id=raw.message_id,
            correlation_id=raw.correlation_id,
            message_type=raw.type,
            timestamp=raw.timestamp,
            expiration=expiration,
            persist=True,
            mandatory=True,
            timeout=self.publish_timeout_s,
        )

