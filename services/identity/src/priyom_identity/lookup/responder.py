"""Answers ``identity.lookup`` requests on a connection of its own, outside faststream's pipeline.

A ringing phone waits on this path, so it carries only what a question needs. faststream gives every
delivery the full consumer treatment (middlewares, metrics, acknowledgement policy, a publisher with
confirms for the response): right for events, but about half of a lookup's CPU time. Here a request is one
aio-pika callback: the body goes to ``answer``, and the reply is published on a channel without publisher
confirms (a reply is at-most-once anyway: direct reply-to does not survive the requester) to the request's
``reply_to`` with its ``correlation_id``. The wire protocol is unchanged, so a faststream
``broker.request`` and :class:`priyom_kit.rpc.RpcClient` both get their answer.

The request queue is a quorum queue with a TTL (a question nobody answered within the TTL is about a call
that is over, and the broker drops it). Quorum, because on a RabbitMQ cluster a classic queue is unavailable
while its node is down, and every pop-up in that time came without the caller's card (the cluster run:
63 of 159 calls in 100 s); a transient classic queue would be deleted with its node and declared again by
the responder, but RabbitMQ 4.3 refuses non-durable shared queues. The price, measured with
``bench/popup.py`` on one node: about 1 ms at the median and 1.5 ms at the 99th percentile of ringing to
pop-up. An earlier version's classic queue under the same name is replaced at start, so a requester of
either version reaches it. Requests are acknowledged after the reply went out, and at most ``prefetch`` are
in flight, so a stalled process does not hoard the queue.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from prometheus_client import CollectorRegistry, Counter, Histogram

from priyom_kit import get_logger
from priyom_kit.broker_connection import connect_robust
from priyom_kit.legacy_queues import redeclare_as
from priyom_kit.rpc import answer
from priyom_kit.tracing import SpanKind, traced

log = get_logger("priyom.identity.lookup")

#: A lookup nobody answered within this long is for a call that has stopped ringing: the broker drops it.
LOOKUP_REQUEST_TTL_MS = 10_000
#: How the request queue is declared (the operator's deploy/rabbitmq/definitions.json says the same).
LOOKUP_QUEUE_ARGUMENTS = {"x-queue-type": "quorum", "x-message-ttl": LOOKUP_REQUEST_TTL_MS}
#: Requests handed to this process at once (each is one short query, or none when cached).
PREFETCH = 256

#: Lookup answer times worth telling apart, in seconds: the target is 5 ms at the 99th percentile.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.5)

Answer = Callable[[bytes], Awaitable[bytes]]


class LookupResponder:
    """Consumes one request queue and publishes each answer to the request's ``reply_to``."""

    def __init__(self, amqp_url: str, queue: str, answer: Answer, registry: CollectorRegistry, *,
                 prefetch: int = PREFETCH) -> None:
        self._amqp_url = amqp_url
        self.queue = queue
        self._answer = answer
        self._prefetch = prefetch
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        # Outside faststream, so outside its Prometheus middleware: the path measures itself.
        self._seconds = Histogram("priyom_identity_lookup_seconds", "Time to answer a lookup request, "
                                  "from delivery to reply published", buckets=LATENCY_BUCKETS, registry=registry)
        self._failures = Counter("priyom_identity_lookup_failures", "Lookup requests left without a reply",
                                 registry=registry)

    async def start(self) -> None:
        """Connect (robustly: the consumer comes back after a broker restart) and start answering."""
        # Named, so ``rabbitmqctl list_connections client_properties`` tells it from the bus connection.
        self._connection = await connect_robust(
            self._amqp_url, client_properties={"connection_name": f"priyom-identity-lookup {self.queue}"})
        await redeclare_as(self._connection, self.queue, LOOKUP_QUEUE_ARGUMENTS)
        self._channel = await self._connection.channel(publisher_confirms=False)
        await self._channel.set_qos(prefetch_count=self._prefetch)
        queue = await self._channel.declare_queue(self.queue, durable=True, arguments=LOOKUP_QUEUE_ARGUMENTS)
        await queue.consume(self._on_request)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = self._channel = None

    async def _on_request(self, message: AbstractIncomingMessage) -> None:
        started = time.perf_counter()
        try:
            with traced(f"{self.queue} process", SpanKind.SERVER, message.headers):
                reply = await self._answer(message.body)
            if self._channel is not None:
                await answer(self._channel, message, reply)
            self._seconds.observe(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - one failed reply must not stop the consumer
            self._failures.inc()
            log.warning("lookup reply failed", error=type(exc).__name__)
        finally:
            # At-most-once by design: a retried question would be answered after the caller gave up.
            await message.ack()
