"""The bus against the real RabbitMQ: confirmed persistent publishes, retries, dead letters with reasons."""

from __future__ import annotations

import asyncio
import uuid

import aio_pika
import pytest
from faststream.rabbit import ExchangeType, RabbitExchange
from prometheus_client import CollectorRegistry

from priyom_contracts import (
    Contact,
    ContactReceived,
    ContactType,
    Sender,
    TicketStatus,
    TicketStatusChanged,
    TicketTypeCorrected,
    utcnow,
)
from priyom_kit import Bus, PermanentError, ServiceSettings


def contact_event(key: str) -> ContactReceived:
    contact_id = uuid.uuid4()
    return ContactReceived(
        correlation_id=contact_id, channel="web", idempotency_key=key,
        contact=Contact(contact_id=contact_id, received_at=utcnow(), sender=Sender(email="c@example.ru"),
                        body="Здравствуйте"),
    )


def make_bus(prefix: str, **env: object) -> Bus:
    settings = ServiceSettings(PRIYOM_BUS_PREFIX=prefix, PRIYOM_RETRY_DELAY_MS=50, PRIYOM_MAX_ATTEMPTS=3, **env)
    return Bus(settings, "kit-test", CollectorRegistry())


async def drain(amqp_url: str, queue: str, expect: int, timeout: float = 15) -> list[aio_pika.IncomingMessage]:
    """Take ``expect`` messages from ``queue`` (acknowledging them), waiting up to ``timeout`` seconds."""
    got: list[aio_pika.IncomingMessage] = []
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, passive=True)
        deadline = asyncio.get_running_loop().time() + timeout
        while len(got) < expect and asyncio.get_running_loop().time() < deadline:
            message = await q.get(fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            got.append(message)
    return got


async def test_failures_are_retried_then_dead_lettered_with_reason(amqp_url: str, cleanup_bus: str) -> None:
    bus = make_bus(cleanup_bus)
    calls: dict[str, int] = {}
    handled = asyncio.Event()

    @bus.consumer("identity.contacts")
    async def handler(event: ContactReceived) -> None:
        calls[event.idempotency_key] = calls.get(event.idempotency_key, 0) + 1
        if event.idempotency_key == "flaky" and calls["flaky"] == 1:
            raise ConnectionError("database went away")
        if event.idempotency_key == "doomed":
            raise RuntimeError("always fails")
        if event.idempotency_key == "wrong":
            raise PermanentError("no identifier to match on")
        if event.idempotency_key == "flaky":
            handled.set()

    await bus.start()
    try:
        for key in ("flaky", "doomed", "wrong"):
            await bus.publish(contact_event(key))
        await bus.broker.publish(b'{"not": "a contact"}', exchange=bus.exchange,
                                 routing_key="contact.received.v1.web", persist=True,
                                 content_type="application/json")
        await asyncio.wait_for(handled.wait(), 10)
        dead = await drain(amqp_url, bus.topology.dead_letter_queue, expect=3)
    finally:
        await bus.stop()

    assert calls["flaky"] == 2, "a transient failure is retried once and then succeeds"
    assert calls["doomed"] == 3, "a failing message is tried max_attempts times"
    assert calls["wrong"] == 1, "a permanent error is not retried"
    by_kind = {m.headers.get("x-idempotency-key"): m for m in dead}
    doomed = by_kind["doomed"]
    assert doomed.headers["x-error"] == "RuntimeError: always fails"
    assert doomed.headers["x-attempts"] == 3
    assert doomed.headers["x-original-queue"] == f"{cleanup_bus}identity.contacts"
    assert doomed.routing_key == "contact.received.v1.web", "dead letters keep the original routing key"
    assert doomed.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert by_kind["wrong"].headers["x-error-kind"] == "permanent"
    invalid = by_kind[None]
    assert invalid.headers["x-error"].startswith("ValidationError")
    assert invalid.body == b'{"not": "a contact"}'


async def test_a_queue_of_several_types_hands_each_to_its_typed_handler(amqp_url: str, cleanup_bus: str) -> None:
    bus = make_bus(cleanup_bus)
    seen: list[str] = []
    both = asyncio.Event()

    @bus.consumer("router.tickets", TicketStatusChanged)
    async def on_changed(event: TicketStatusChanged) -> None:
        seen.append(f"changed {event.number}")
        if len(seen) == 2:
            both.set()

    @bus.consumer("router.tickets", TicketTypeCorrected)
    async def on_corrected(event: TicketTypeCorrected) -> None:
        seen.append(f"corrected {event.number}")
        if len(seen) == 2:
            both.set()

    changed = TicketStatusChanged(correlation_id=uuid.uuid4(), channel="web", idempotency_key="c",
                                  number="2026-000001", old_status=TicketStatus.NEW,
                                  new_status=TicketStatus.RESOLVED, changed_by="agent")
    await bus.start()
    try:
        await bus.publish(changed)
        await bus.broker.publish(b'{"number": "2026-000002"}', exchange=bus.exchange,
                                 routing_key="ticket.created.v1.web", message_type="ticket.created.v1",
                                 persist=True, content_type="application/json")
        await bus.publish(TicketTypeCorrected(
            correlation_id=uuid.uuid4(), channel="web", idempotency_key="t", number="2026-000003",
            contact_id=uuid.uuid4(), old_type=ContactType.SERVICE_REQUEST, new_type=ContactType.COMPLAINT,
            corrected_by="agent"))
        await asyncio.wait_for(both.wait(), 10)
        (dead,) = await drain(amqp_url, bus.topology.dead_letter_queue, expect=1)
    finally:
        await bus.stop()
    assert sorted(seen) == ["changed 2026-000001", "corrected 2026-000003"]
    assert dead.headers["x-error-kind"] == "permanent" and dead.headers["x-attempts"] == 1
    assert dead.headers["x-error"] == (f"PermanentError: {cleanup_bus}router.tickets has no handler for "
                                       "message type 'ticket.created.v1'")


async def test_what_never_was_on_the_bus_is_dead_lettered_whole_with_the_same_headers(
        amqp_url: str, cleanup_bus: str) -> None:
    bus = make_bus(cleanup_bus)
    await bus.start()
    try:
        await bus.dead_letter(b"Subject: bomb\r\n\r\n", "too deep " * 300, "imap:support",
                              routing_key="contact.received.v1.email", content_type="message/rfc822")
        (dead,) = await drain(amqp_url, bus.topology.dead_letter_queue, expect=1)
    finally:
        await bus.stop()
    assert dead.body == b"Subject: bomb\r\n\r\n" and dead.content_type == "message/rfc822"
    assert dead.routing_key == dead.headers["x-original-routing-key"] == "contact.received.v1.email"
    assert dead.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert dead.headers["x-error"] == ("too deep " * 300)[:2000]
    assert (dead.headers["x-error-kind"], dead.headers["x-attempts"]) == ("permanent", 1)
    assert (dead.headers["x-original-queue"], dead.headers["x-failed-by"]) == ("imap:support", "kit-test")
    assert dead.headers["x-failed-at"]


async def test_publish_is_persistent_and_unroutable_publish_raises(amqp_url: str, cleanup_bus: str) -> None:
    bus = make_bus(cleanup_bus)
    await bus.start()  # declares the topology; no consumer registered, so messages wait in the queue
    try:
        event = contact_event("web:1")
        await bus.publish(event)
        (message,) = await drain(amqp_url, bus.topology.queue("identity.contacts").name, expect=1)
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert message.message_id == str(event.message_id)
        assert message.type == "contact.received.v1"
        assert ContactReceived.model_validate_json(message.body) == event
        lonely = RabbitExchange(f"{cleanup_bus}lonely", type=ExchangeType.TOPIC, auto_delete=True)
        await bus.broker.declare_exchange(lonely)
        with pytest.raises(Exception, match="NO_ROUTE|not routed|PublishError|unroutable"):
            await bus.broker.publish(b"x", exchange=lonely, routing_key="nobody.listens", persist=True)
    finally:
        await bus.stop()


async def test_health_ping(cleanup_bus: str) -> None:
    bus = make_bus(cleanup_bus)
    assert not await bus.ping(0.5)
    await bus.start()
    try:
        assert await bus.ping(2)
    finally:
        await bus.stop()


async def test_every_publish_is_kept_in_the_journal_stream(amqp_url: str, cleanup_bus: str) -> None:
    """A broadcast event nobody consumes yet is still routable, and replayable from the journal."""
    bus = make_bus(cleanup_bus)
    await bus.start()
    try:
        event = contact_event("web:journal")
        await bus.publish(event)
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=10)
            journal = await channel.declare_queue(bus.topology.journal_queue, passive=True)
            got: asyncio.Queue[aio_pika.abc.AbstractIncomingMessage] = asyncio.Queue()
            await journal.consume(got.put, arguments={"x-stream-offset": "first"})
            message = await asyncio.wait_for(got.get(), 10)
            await message.ack()
        assert message.message_id == str(event.message_id)
        assert message.routing_key == "contact.received.v1.web"
    finally:
        await bus.stop()
