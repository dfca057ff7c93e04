"""What the bus tells Prometheus about the business: events published by type and channel (contacts by
channel, tickets created), deliveries dead-lettered, and the depth of each consumer queue.

Counted in the kit's one publish and one failure policy, so every service reports them the same way without
a line of its own. The deliveries are counted per routing key too (:mod:`.delivery_metrics`); these name the domain
(``event="contact.received.v1", channel="web"``) without the deployment's bus prefix, so one dashboard serves
every deployment.

Queue depth is sampled by each service for the queues it consumes (a passive look at the queue on a channel
of its own, every :data:`SAMPLE_EVERY_S`): several replicas report the same queue, so read it with ``max by (queue)``.
"""

from __future__ import annotations

from collections.abc import Iterable

from aio_pika.abc import AbstractRobustChannel
from prometheus_client import CollectorRegistry, Counter, Gauge

SAMPLE_EVERY_S = 15.0


class BusMetrics:
    """The bus's business metrics, registered in the service's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter("priyom_events_published", "Events published to the bus (broker confirmed), "
                                 "by type and channel", ["event", "channel"], registry=registry)
        self.dead_lettered = Counter("priyom_dead_lettered", "Deliveries and arrivals sent to the dead-letter "
                                     "queue, by the queue (or intake) that gave up and why (permanent, "
                                     "attempts-exhausted)", ["queue", "kind"], registry=registry)
        self.queue_messages = Gauge("priyom_queue_messages", "Messages ready in a consumer queue, sampled by "
                                    "the services consuming it", ["queue"], registry=registry)
        self.queue_consumers = Gauge("priyom_queue_consumers", "Consumers attached to a consumer queue, "
                                     "sampled by the services consuming it", ["queue"], registry=registry)

    async def sample_queues(self, names: Iterable[str], channel: AbstractRobustChannel, *,
                            timeout: float) -> dict[str, int]:
        """Look at each queue (a passive declare: it changes nothing, and the broker answers with the counts)
        and return its consumer count; a queue that cannot be read keeps its last value, and the failure goes
        to the caller (a :class:`~priyom_kit.periodic.Periodic` logs it).

        ``robust=False``: a robust channel keeps a queue it declared, and answers a later passive declare of
        that name from it without asking the broker, so every sample after the first would repeat the first."""
        consumers: dict[str, int] = {}
        for name in names:
            queue = await channel.declare_queue(name, passive=True, timeout=timeout, robust=False)
            declared = queue.declaration_result
            consumers[name] = declared.consumer_count or 0
            self.queue_messages.labels(name).set(declared.message_count or 0)
            self.queue_consumers.labels(name).set(consumers[name])
        return consumers
