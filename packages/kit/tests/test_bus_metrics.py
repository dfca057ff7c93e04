"""The bus's business metrics against the real RabbitMQ: events published, dead letters, queue depth."""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import CollectorRegistry

from priyom_contracts import ContactReceived
from priyom_kit import Bus, PermanentError, ServiceSettings

from .test_bus import contact_event


async def test_published_dead_lettered_and_queue_depth_are_reported(cleanup_bus: str) -> None:
    registry = CollectorRegistry()
    bus = Bus(ServiceSettings(PRIYOM_BUS_PREFIX=cleanup_bus), "kit-test", registry)
    queue = bus.topology.queue("identity.contacts").name
    handled: list[str] = []
    done = asyncio.Event()

    @bus.consumer("identity.contacts")
    async def identify(event: ContactReceived) -> None:
        handled.append(event.idempotency_key)
        if len(handled) == 2:
            done.set()
        if event.idempotency_key == "wrong":
            raise PermanentError("no identifier to match on")

    await bus.start()
    try:
        for key in ("fine", "wrong"):
            await bus.publish(contact_event(key))
        await asyncio.wait_for(done.wait(), 15)
        await asyncio.sleep(0.3)  # the failure policy dead-letters after the handler returned
        await bus._sample_queues()
    finally:
        await bus.stop()

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("priyom_events_published_total", event="contact.received.v1", channel="web") == 2
    assert value("priyom_dead_lettered_total", queue=queue, kind="permanent") == 1
    assert value("priyom_queue_consumers", queue=queue) == 1
    assert value("priyom_queue_messages", queue=queue) == 0


async def test_a_consumer_the_broker_lost_is_noticed_and_started_again(cleanup_bus: str) -> None:
    """The broker drops the consumer while the client still thinks it consumes (as after a broker restart that
    cancelled it too early): the sampler sees no consumer twice, the connection is made again, and the
    message that waited is handled."""
    registry = CollectorRegistry()
    bus = Bus(ServiceSettings(PRIYOM_BUS_PREFIX=cleanup_bus), "kit-test", registry)
    queue = bus.topology.queue("identity.contacts").name
    handled: list[str] = []

    @bus.consumer("identity.contacts")
    async def identify(event: ContactReceived) -> None:
        handled.append(event.idempotency_key)

    def consumers() -> float | None:
        return registry.get_sample_value("priyom_queue_consumers", {"queue": queue})

    await bus.start()
    try:
        await bus._sample_queues()
        assert consumers() == 1
        consumer = bus.consumers.registered()["identity.contacts"]
        assert consumer._queue is not None and consumer._tag is not None
        underlay = await consumer._queue.channel.get_underlay_channel()
        await underlay.basic_cancel(consumer._tag)  # behind aio-pika's back
        await bus.publish(contact_event("waited"))
        await asyncio.sleep(0.5)
        assert handled == []

        await bus._sample_queues()  # a fresh count, not the first sample's answer again
        assert consumers() == 0
        await bus._sample_queues()  # the second in a row: the connection is made again
        for _ in range(150):
            if handled:
                break
            await asyncio.sleep(0.1)
        assert handled == ["waited"]
        await bus._sample_queues()
        assert consumers() == 1
    finally:
        await bus.stop()


async def test_deliveries_are_measured_under_faststreams_names_by_outcome(cleanup_bus: str) -> None:
    """What the dashboard reads of each queue (received, handled by outcome, how long) under the names and labels
    faststream's own middleware gave them: a delivery handled and one that failed (then dead-lettered)."""
    registry = CollectorRegistry()
    bus = Bus(ServiceSettings(PRIYOM_BUS_PREFIX=cleanup_bus), "kit-test", registry)
    handled: list[str] = []
    bound: list[tuple[object, object, object]] = []
    done = asyncio.Event()

    @bus.consumer("identity.contacts")
    async def identify(event: ContactReceived) -> None:
        handled.append(event.idempotency_key)
        ids = structlog.contextvars.get_contextvars()  # what a line logged here carries
        bound.append((event.idempotency_key, ids.get("correlation_id"), ids.get("message_id")))
        if len(handled) == 3:
            done.set()
        if event.idempotency_key == "wrong":
            raise PermanentError("no identifier to match on")

    await bus.start()
    events = [contact_event(key) for key in ("fine", "also fine", "wrong")]
    try:
        for event in events:
            await bus.publish(event)
        await asyncio.wait_for(done.wait(), 15)
        await asyncio.sleep(0.3)
    finally:
        await bus.stop()
    # Each delivery's lines carry its own ids (the contact's id and the message's).
    assert sorted(bound) == sorted((e.idempotency_key, str(e.correlation_id), str(e.message_id)) for e in events)
    handler = f"{bus.topology.exchange}.{contact_event('x').routing_key}"
    labels = {"app_name": "kit-test", "broker": "rabbitmq", "handler": handler}

    def value(name: str, **more: str) -> float | None:
        return registry.get_sample_value(name, {**labels, **more})

    assert value("faststream_received_messages_total") == 3
    assert value("faststream_received_processed_messages_total", status="acked") == 2
    assert value("faststream_received_processed_messages_total", status="error") == 1
    assert value("faststream_received_processed_messages_duration_seconds_count") == 3
