"""The bus against the real RabbitMQ: confirmed persistent publishes, retries, dead letters with reasons."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import aio_pika
import pytest
from aiormq.exceptions import DeliveryError
from faststream.rabbit import ExchangeType, RabbitExchange
from prometheus_client import CollectorRegistry

from priyom_contracts import (
    ClientChange,
    ClientChanged,
    Contact,
    ContactReceived,
    ContactType,
    Sender,
    TicketStatus,
    TicketStatusChanged,
    TicketTypeCorrected,
    utcnow,
)
from priyom_kit import Bus, PermanentError, ServiceSettings, broker_connection


def contact_event(key: str) -> ContactReceived:
    contact_id = uuid.uuid4()
    return ContactReceived(
        correlation_id=contact_id, channel="web", idempotency_key=key,
        contact=Contact(contact_id=contact_id, received_at=utcnow(), sender=Sender(email="c@example.ru"),
                        body="Здравствуйте"),
    )


def make_bus(prefix: str, registry: CollectorRegistry | None = None, **env: object) -> Bus:
    settings = ServiceSettings(PRIYOM_BUS_PREFIX=prefix, PRIYOM_RETRY_DELAY_MS=50, PRIYOM_MAX_ATTEMPTS=3, **env)
    return Bus(settings, "kit-test", registry or CollectorRegistry())


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


async def test_what_names_no_person_is_kept_in_the_journal_stream(amqp_url: str, cleanup_bus: str) -> None:
    """A broadcast event nobody consumes yet is still routable, and replayable from the journal; a message
    with personal data (a contact) is not kept there, since nothing can erase one message from a stream."""
    bus = make_bus(cleanup_bus)
    await bus.start()
    try:
        await bus.publish(contact_event("web:journal"))
        event = ClientChanged(correlation_id=uuid.uuid4(), channel="api", idempotency_key="client-changed:journal",
                              change=ClientChange.EDITED, client_ids=[uuid.uuid4()])
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
        assert message.message_id == str(event.message_id), "the contact before it is not in the journal"
        assert message.routing_key == "client.changed.v1.api"
    finally:
        await bus.stop()


async def test_a_dead_letter_redelivered_goes_to_the_one_queue_that_failed_it_without_its_failure(
        amqp_url: str, cleanup_bus: str) -> None:
    """The keeper is handed the body undecoded (a mail is no JSON) and acknowledges it itself; a redelivery
    reaches only the queue named, starts at attempt one and keeps the routing key it was published with."""
    bus = make_bus(cleanup_bus)
    kept: asyncio.Queue[tuple[bytes, dict]] = asyncio.Queue()

    @bus.dead_letter_consumer()
    async def keep(body: bytes, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        await kept.put((body, dict(message.headers)))
        await message.ack()

    await bus.start()
    try:
        await bus.dead_letter(b"Subject: not json\r\n\r\n{", "unreadable", "smtp",
                              routing_key="contact.received.v1.email", content_type="application/json")
        body, headers = await asyncio.wait_for(kept.get(), 10)
        assert body == b"Subject: not json\r\n\r\n{" and headers["x-original-queue"] == "smtp"

        event = contact_event("web:redelivered")
        failed = {"x-idempotency-key": event.idempotency_key, "x-error": "boom", "x-error-kind": "permanent",
                  "x-attempts": 3, "x-priyom-attempt": 3, "x-original-queue": "q", "x-failed-at": "t",
                  "x-failed-by": "identity", "x-original-routing-key": event.routing_key}
        target = bus.topology.queue("identity.contacts").name
        await bus.redeliver(event.model_dump_json().encode(), queue=target, headers=failed,
                            content_type="application/json", message_id=str(event.message_id),
                            correlation_id=str(event.correlation_id), message_type=event.type_name())
        (message,) = await drain(amqp_url, target, expect=1)
        assert await drain(amqp_url, bus.topology.queue("router.contacts").name, expect=1, timeout=0.3) == []
        with pytest.raises(DeliveryError):  # the queue is gone: the broker returned it
            await bus.redeliver(b"{}", queue=f"{cleanup_bus}no.such.queue", headers={}, content_type=None,
                                message_id=None, correlation_id=None, message_type=None)
    finally:
        await bus.stop()
    assert ContactReceived.model_validate_json(message.body) == event
    assert (message.message_id, message.type) == (str(event.message_id), "contact.received.v1")
    headers = {k: v for k, v in message.headers.items() if k != "x-delivery-count"}  # the quorum queue's own
    assert headers == {"x-idempotency-key": event.idempotency_key, "x-original-routing-key": event.routing_key}
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT


async def test_a_stop_the_broker_never_answers_closes_the_connection_and_loses_nothing(
        amqp_url: str, cleanup_bus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A consumer cancel left unanswered (seen once in CI: the process hung in its shutdown for minutes) no
    longer holds the stop: the connection is closed after the bound, and the message being handled goes back."""
    monkeypatch.setattr(broker_connection, "STOP_TIMEOUT_S", 0.5)
    bus = make_bus(cleanup_bus)
    taken = asyncio.Event()

    @bus.consumer("identity.contacts")
    async def hold(event: ContactReceived) -> None:
        taken.set()
        await asyncio.Event().wait()  # still handling it when the service stops

    await bus.start()
    await bus.publish(contact_event("in-hand"))
    await asyncio.wait_for(taken.wait(), 10)
    unanswered = asyncio.Event()

    async def stop_never_answered(*_: object) -> None:  # the broker as it was: no cancel-ok, ever
        while not unanswered.is_set():
            with contextlib.suppress(asyncio.CancelledError):  # as aiormq's RPC: a cancel does not end it
                await unanswered.wait()

    monkeypatch.setattr(bus.broker, "stop", stop_never_answered)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await bus.stop()
    assert loop.time() - began < 5, "the stop is bounded"
    unanswered.set()  # let the stuck stop end, now that the test is done with it
    back = await drain(amqp_url, bus.topology.queue("identity.contacts").name, 1)
    assert [m.headers["x-idempotency-key"] for m in back] == ["in-hand"], "the message went back to its queue"


async def test_a_queue_look_the_broker_never_answers_does_not_hold_the_stop(
        cleanup_bus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The depth sampler's passive declare left unanswered (a CI run hung three minutes in a stop that way): the
    stop is bounded all the same, and closing the connection ends the look."""
    monkeypatch.setattr(broker_connection, "STOP_TIMEOUT_S", 0.5)
    bus = make_bus(cleanup_bus)
    looking = asyncio.Event()
    answered = asyncio.Event()

    async def look_never_answered(*_: object, **__: object) -> dict[str, int]:
        looking.set()
        while not answered.is_set():
            with contextlib.suppress(asyncio.CancelledError):  # as aiormq's RPC: a cancel does not end it
                await answered.wait()
        return {}

    monkeypatch.setattr(bus.metrics, "sample_queues", look_never_answered)

    @bus.consumer("identity.contacts")
    async def handle(event: ContactReceived) -> None:
        return None

    await bus.start()
    await asyncio.wait_for(looking.wait(), 10)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await bus.stop()
    assert loop.time() - began < 5, "the stop is bounded"
    answered.set()
