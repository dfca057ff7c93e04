"""Signals (the chat's typing indicator) against the real RabbitMQ: transient, routed to the per-process
fan-outs, dropped without an error when nobody listens, a failure answered rather than raised; and the
throttle that keeps them few."""

from __future__ import annotations

import uuid

import aio_pika
from prometheus_client import CollectorRegistry

from priyom_contracts import AgentTyping, VisitorTyping, journal_bindings
from priyom_kit import Bus, ServiceSettings
from priyom_kit.signals import Throttle, publish_signal
from priyom_kit.testing import bus_tap


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_lets_one_per_key_through_in_each_interval() -> None:
    clock = Clock()
    throttle = Throttle(2.0, keys=2, clock=clock)
    assert [throttle.allow("a") for _ in range(3)] == [True, False, False]
    assert throttle.allow("b"), "each key counts on its own"
    clock.now += 1.9
    assert not throttle.allow("a")
    clock.now += 0.1
    assert throttle.allow("a")
    # Only the most recent keys are remembered: a forgotten one may go again (for a signal, one more).
    assert throttle.allow("c")
    assert not throttle.allow("a")
    assert throttle.allow("b")


def test_typing_signals_are_never_kept_in_the_journal() -> None:
    kept = journal_bindings()
    assert not [key for key in kept if key.startswith(("visitor.typing", "agent.typing"))]
    dumped = VisitorTyping.model_validate({"visitor": "abc123", "text": "what they type"}).model_dump()
    assert "text" not in dumped and set(dumped) >= {"visitor", "channel"}


async def test_a_signal_is_transient_reaches_a_fanout_and_nobody_listening_is_no_error(
    amqp_url: str, cleanup_bus: str
) -> None:
    bus = Bus(ServiceSettings(PRIYOM_BUS_PREFIX=cleanup_bus), "kit-test", CollectorRegistry())
    await bus.start()
    try:
        # Nobody is bound to agent.typing yet: dropped by the broker, not an error for the sender.
        assert await publish_signal(bus, AgentTyping(visitor="nobody-listens"))
        async with bus_tap(amqp_url, cleanup_bus, "agent.typing.v1.chat") as tap:
            visitor = uuid.uuid4().hex
            assert await publish_signal(bus, AgentTyping(visitor=visitor))
            message = await tap.next(timeout=5)
            assert message.delivery_mode == aio_pika.DeliveryMode.NOT_PERSISTENT
            assert message.type == "agent.typing.v1"
            assert AgentTyping.model_validate_json(message.body).visitor == visitor
    finally:
        await bus.stop()
    # A bus that is gone: the signal is lost and said so, never raised into the caller.
    assert not await publish_signal(bus, AgentTyping(visitor="after-stop"), timeout_s=0.5)
