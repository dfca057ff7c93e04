"""Several broker addresses in ``AMQP_URL``: a bus starts on the one that answers, and when the node it is on
goes away it carries on through another, consumers restored, nothing lost.

The one RabbitMQ here stands for a cluster's nodes behind two TCP relays, each an address of its own; stopping
a relay (its listener and every connection through it) is, to the client, that node stopping."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from urllib.parse import urlsplit

import pytest
from prometheus_client import CollectorRegistry

from priyom_contracts import Contact, ContactReceived, Sender, utcnow
from priyom_kit import Bus, ServiceSettings
from priyom_kit.broker_connection import broker_addresses


class Relay:
    """A TCP relay from a port of its own to the broker: an address that can be taken away."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.connections: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.connections |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        """The node goes away: no new connection, and every open one cut."""
        assert self.server is not None
        self.server.close()
        for writer in self.connections:
            writer.transport.abort()
        self.connections.clear()
        await self.server.wait_closed()


def address(amqp_url: str, port: int) -> str:
    parts = urlsplit(amqp_url)
    return parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:{port}").geturl()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def contact(key: str) -> ContactReceived:
    contact_id = uuid.uuid4()
    return ContactReceived(correlation_id=contact_id, channel="web", idempotency_key=key,
                           contact=Contact(contact_id=contact_id, received_at=utcnow(),
                                           sender=Sender(email="c@example.ru"), body="Здравствуйте"))


def test_amqp_url_lists_the_nodes_of_a_cluster() -> None:
    assert broker_addresses("amqp://a:b@n1:5672/, amqp://a:b@n2:5673/,") == ["amqp://a:b@n1:5672/",
                                                                          "amqp://a:b@n2:5673/"]
    assert broker_addresses("amqp://a:b@n1/") == ["amqp://a:b@n1/"]
    with pytest.raises(ValueError, match="no broker"):
        broker_addresses(" , ")


async def test_a_bus_starts_on_the_address_that_answers(amqp_url: str, cleanup_bus: str) -> None:
    got: asyncio.Queue[str] = asyncio.Queue()
    for attempt in range(3):  # the first address tried is picked at random: each order is met in a few starts
        bus = Bus(ServiceSettings(AMQP_URL=f"{address(amqp_url, closed_port())},{amqp_url}",
                                  PRIYOM_BUS_PREFIX=cleanup_bus), "kit-test", CollectorRegistry())

        @bus.consumer("identity.contacts")
        async def handle(event: ContactReceived) -> None:
            await got.put(event.idempotency_key)

        await bus.start()
        try:
            await bus.publish(contact(f"start-{attempt}"))
            assert await asyncio.wait_for(got.get(), 10) == f"start-{attempt}"
        finally:
            await bus.stop()


async def test_when_its_node_goes_the_bus_carries_on_through_another(amqp_url: str, cleanup_bus: str) -> None:
    broker = urlsplit(amqp_url)
    relays = [Relay(broker.hostname or "127.0.0.1", broker.port or 5672) for _ in range(2)]
    for relay in relays:
        await relay.start()
    bus = Bus(ServiceSettings(AMQP_URL=",".join(address(amqp_url, relay.port) for relay in relays),
                              PRIYOM_BUS_PREFIX=cleanup_bus), "kit-test", CollectorRegistry())
    got: asyncio.Queue[str] = asyncio.Queue()

    @bus.consumer("identity.contacts")
    async def handle(event: ContactReceived) -> None:
        await got.put(event.idempotency_key)

    await bus.start()
    try:
        await bus.publish(contact("before"))
        assert await asyncio.wait_for(got.get(), 10) == "before"
        [on] = [relay for relay in relays if relay.connections]
        [other] = [relay for relay in relays if relay is not on]
        await on.stop()
        # Published through the other node once the connection is back; the consumer restored with it.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:
            try:
                await bus.publish(contact("after"), timeout_s=2)
                break
            except Exception:  # noqa: BLE001 - reconnecting: the publish fails until the connection is back
                assert loop.time() < deadline, "the bus never came back through the other address"
                await asyncio.sleep(0.2)
        # "before" may come again: its ack can be cut with the connection (at least once; consumers dedupe).
        seen = [await asyncio.wait_for(got.get(), 15)]
        while seen[-1] != "after":
            seen.append(await asyncio.wait_for(got.get(), 15))
        assert set(seen) <= {"before", "after"}, seen
        assert other.connections, "reconnected, but not through the other address"
    finally:
        await bus.stop()
        for relay in relays:
            if relay.server is not None and relay.server.is_serving():
                await relay.stop()
