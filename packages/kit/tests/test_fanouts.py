"""Per-process fan-outs against the real RabbitMQ: every process gets every message on a queue of its own,
consumed without acknowledgements; a handler's failure drops that message and the next still arrives; the
consumer comes back, on a queue of the same name, after the connection is cut."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from prometheus_client import CollectorRegistry

from priyom_contracts import CallEvent, CallState
from priyom_kit import Bus, ServiceSettings
from priyom_kit.fanouts import event_type_of
from priyom_testing.broker_cut import CANNOT_CUT, cut_connections


def call(state: CallState = CallState.RINGING, agent: str = "101") -> CallEvent:
    call_id = uuid.uuid4().hex
    return CallEvent(correlation_id=uuid.uuid4(), channel="phone", idempotency_key=f"pbx:{call_id}:{state}",
                     call_id=call_id, state=state, caller="+79161234567", agent=agent)


class Process:
    """One tickets process's bus with a fan-out handler that keeps what it got (and fails on agent 666)."""

    def __init__(self, prefix: str, service: str) -> None:
        self.registry = CollectorRegistry()
        self.bus = Bus(ServiceSettings(PRIYOM_BUS_PREFIX=prefix), service, self.registry)
        self.got: asyncio.Queue[CallEvent] = asyncio.Queue()

        @self.bus.fanout_consumer("tickets.calls")
        async def on_call(event: CallEvent) -> None:
            if event.agent == "666":
                raise RuntimeError("this handler fails")
            await self.got.put(event)

    async def next(self) -> CallEvent:
        return await asyncio.wait_for(self.got.get(), 10)

    def dropped(self) -> float:
        return self.registry.get_sample_value("priyom_fanout_dropped_total", {"fanout": "tickets.calls"}) or 0.0


async def test_every_process_gets_every_message_and_a_failure_drops_only_that_one(cleanup_bus: str) -> None:
    one, two = Process(cleanup_bus, "kit-fan-a"), Process(cleanup_bus, "kit-fan-b")
    await one.bus.start()
    await two.bus.start()
    try:
        first, failing, after = call(), call(agent="666"), call(CallState.ANSWERED)
        for event in (first, failing, after):
            await one.bus.publish(event)
        for process in (one, two):
            assert (await process.next()).call_id == first.call_id
            assert (await process.next()).call_id == after.call_id, "the failing message is dropped, not retried"
            assert process.dropped() == 1.0
            assert process.got.empty()
    finally:
        await one.bus.stop()
        await two.bus.stop()


def test_a_fanout_handler_names_its_message_type() -> None:
    async def typed(event: CallEvent) -> None: ...

    async def untyped(event) -> None: ...  # type: ignore[no-untyped-def]

    assert event_type_of(typed) is CallEvent
    with pytest.raises(TypeError, match="one Event parameter"):
        event_type_of(untyped)


@pytest.mark.skipif(CANNOT_CUT is not None, reason=CANNOT_CUT or "")
async def test_the_fanout_comes_back_after_the_connection_is_cut(cleanup_bus: str) -> None:
    service = f"kit-fan-{uuid.uuid4().hex[:6]}"
    process = Process(cleanup_bus, service)
    await process.bus.start()
    try:
        await process.bus.publish(call())
        await process.next()
        assert await asyncio.to_thread(cut_connections, f"priyom-{service}"), "the bus connection is listed"
        deadline = asyncio.get_running_loop().time() + 60
        while True:  # publish until the restored consumer takes one: the publisher reconnects too
            try:
                await process.bus.publish(call(CallState.ENDED), timeout_s=2)
                event = await asyncio.wait_for(process.got.get(), 2)
                break
            except Exception:  # noqa: BLE001 - not back yet (a closed channel raises without yielding: sleep)
                assert asyncio.get_running_loop().time() < deadline, "the fan-out consumer did not come back"
                await asyncio.sleep(0.5)
        assert event.state is CallState.ENDED
    finally:
        await process.bus.stop()
