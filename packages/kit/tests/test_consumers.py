"""The kit's queue consumers against the real RabbitMQ: what a stop and a failing failure policy do to the
deliveries in hand, the delivery given to a handler that asks for it, a failing keeper of dead letters, and
handlers that cannot be consumed. (Retries, dead letters, typed dispatch, metrics and log ids: test_bus.py and
test_bus_metrics.py.)"""

from __future__ import annotations

import asyncio

import pytest
from aio_pika.abc import AbstractIncomingMessage
from prometheus_client import CollectorRegistry

from priyom_contracts import ContactReceived, TicketStatusChanged
from priyom_kit import PermanentError
from priyom_kit.consumers import BackToQueue

from .test_bus import contact_event, drain, make_bus


async def test_a_stop_lets_the_deliveries_in_hand_finish_and_acknowledges_them(
        amqp_url: str, cleanup_bus: str) -> None:
    """A handler still running when the service stops finishes, and its delivery is acknowledged: not handled
    again by the next consumer, and nothing waits in the queue."""
    bus = make_bus(cleanup_bus)
    started = asyncio.Event()
    finished: list[str] = []

    @bus.consumer("identity.contacts")
    async def slow(event: ContactReceived) -> None:
        started.set()
        await asyncio.sleep(0.5)
        finished.append(event.idempotency_key)

    await bus.start()
    try:
        await bus.publish(contact_event("in-hand"))
        await asyncio.wait_for(started.wait(), 10)
    finally:
        await bus.stop()
    assert finished == ["in-hand"], "the stop waited for the handler"
    left = await drain(amqp_url, bus.topology.queue("identity.contacts").name, expect=1, timeout=1)
    assert left == [], "and its delivery was acknowledged"


async def test_a_failure_the_policy_cannot_settle_goes_back_to_its_queue(
        cleanup_bus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The handler fails and so does the policy (the broker refuses the retry's publish): the delivery is
    rejected back to its queue and delivered again, not acknowledged and lost."""
    bus = make_bus(cleanup_bus)
    attempts: list[str] = []
    again = asyncio.Event()

    @bus.consumer("identity.contacts")
    async def flaky(event: ContactReceived) -> None:
        attempts.append(event.idempotency_key)
        if len(attempts) == 1:
            raise ConnectionError("the database went away")
        again.set()

    async def refused(*_: object, **__: object) -> None:
        raise ConnectionError("the broker refused the retry")

    monkeypatch.setattr(bus, "_republish", refused)
    await bus.start()
    try:
        await bus.publish(contact_event("bounced"))
        await asyncio.wait_for(again.wait(), 15)
    finally:
        await bus.stop()
    assert attempts == ["bounced", "bounced"]


async def test_a_handler_that_asks_for_the_delivery_gets_it(cleanup_bus: str) -> None:
    bus = make_bus(cleanup_bus)
    got: list[tuple[str, object]] = []
    done = asyncio.Event()

    @bus.consumer("identity.contacts")
    async def with_headers(event: ContactReceived, message: AbstractIncomingMessage) -> None:
        got.append((event.idempotency_key, (message.headers or {}).get("x-idempotency-key")))
        done.set()

    await bus.start()
    try:
        await bus.publish(contact_event("headers"))
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await bus.stop()
    assert got == [("headers", "headers")]


async def test_a_keeper_that_fails_gets_its_letter_back_not_dead_lettered_again(amqp_url: str,
                                                                                 cleanup_bus: str) -> None:
    """The dead letters' keeper fails (a bug: it is to hold a letter it cannot store, not fail): the letter goes
    back to the dead-letter queue and is kept at the next delivery, not dead-lettered a second time; both
    deliveries are measured like any queue's."""
    registry = CollectorRegistry()
    bus = make_bus(cleanup_bus, registry)
    kept: list[bytes] = []
    stored = asyncio.Event()

    @bus.dead_letter_consumer()
    async def keep(body: bytes, message: AbstractIncomingMessage) -> None:
        kept.append(body)
        if len(kept) == 1:
            raise RuntimeError("a bug in the keeper")
        await message.ack()
        stored.set()

    await bus.start()
    try:
        await bus.dead_letter(b"Subject: not json", "unreadable", "smtp", routing_key="contact.received.v1.email")
        await asyncio.wait_for(stored.wait(), 10)
    finally:
        await bus.stop()
    assert kept == [b"Subject: not json", b"Subject: not json"]
    assert await drain(amqp_url, bus.topology.dead_letter_queue, expect=1, timeout=0.5) == []
    assert registry.get_sample_value("priyom_dead_lettered_total", {"queue": "smtp", "kind": "permanent"}) == 1

    def value(name: str, **labels: str) -> float | None:
        handler = f"{bus.topology.dead_letter_exchange}.contact.received.v1.email"
        return registry.get_sample_value(name, {"app_name": "kit-test", "broker": "rabbitmq", "handler": handler,
                                                **labels})

    assert value("faststream_received_messages_total") == 2
    assert value("faststream_received_processed_messages_total", status="error") == 1
    assert value("faststream_received_processed_messages_total", status="acked") == 1


async def test_a_keeper_that_keeps_failing_holds_each_letter_longer_instead_of_spinning() -> None:
    """Each failure in a row holds its letter twice as long before it goes back, up to the longest pause; a
    failure after a quiet spell starts again from the first pause. Every failure sends the letter back."""
    paused: list[float] = []
    now = [0.0]

    async def pause(seconds: float) -> None:
        paused.append(seconds)
        now[0] += seconds

    policy = BackToQueue(1.0, 30.0, pause=pause, clock=lambda: now[0])
    error = RuntimeError("a bug in the keeper")
    for _ in range(7):
        assert await policy(None, "priyom.dead-letters", error) is False  # type: ignore[arg-type]
    assert paused == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    now[0] += 31.0  # a quiet spell longer than the longest pause
    assert await policy(None, "priyom.dead-letters", error) is False  # type: ignore[arg-type]
    assert paused[-1] == 1.0


async def test_a_keeper_failing_on_every_letter_does_not_have_it_redelivered_at_once(amqp_url: str,
                                                                                      cleanup_bus: str) -> None:
    """On the broker: a keeper that fails on every delivery gets the letter again after a pause (1 s, then 2 s),
    not in a loop of redeliveries as fast as the broker can make them."""
    bus = make_bus(cleanup_bus)
    deliveries: list[float] = []
    second = asyncio.Event()

    @bus.dead_letter_consumer()
    async def keep(body: bytes, message: AbstractIncomingMessage) -> None:
        deliveries.append(asyncio.get_running_loop().time())
        if len(deliveries) == 2:
            second.set()
        raise RuntimeError("a bug in the keeper")

    await bus.start()
    try:
        await bus.dead_letter(b"Subject: not json", "unreadable", "smtp", routing_key="contact.received.v1.email")
        await asyncio.wait_for(second.wait(), 10)
        await asyncio.sleep(1.0)  # the second failure holds the letter 2 s
        assert len(deliveries) == 2, "delivered again before its pause ended"
        assert deliveries[1] - deliveries[0] >= 0.9  # the first failure held it 1 s
    finally:
        await bus.stop()


def test_handlers_that_cannot_be_consumed_are_refused_when_registered(cleanup_bus: str) -> None:
    bus = make_bus(cleanup_bus)

    async def untyped(event) -> None:  # type: ignore[no-untyped-def]  # noqa: ANN001
        raise PermanentError("never called")

    async def typed(event: TicketStatusChanged) -> None:
        return None

    with pytest.raises(TypeError, match="one Event parameter"):
        bus.consumer("identity.contacts")(untyped)
    bus.consumer("router.tickets", TicketStatusChanged)(typed)
    with pytest.raises(ValueError, match="has a handler for ticket.status-changed.v1 already"):
        bus.consumer("router.tickets", TicketStatusChanged)(typed)
