"""The whole service on the real RabbitMQ: a routed contact in, one ticket and its announcement out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aio_pika
import httpx
import pytest
from asgi_lifespan import LifespanManager

from priyom_contracts import ContactRouted, TicketCreated, Topology, binding
from priyom_kit import ServiceParts
from priyom_tickets.app import build, create_app
from priyom_tickets.numbering import parse_number
from priyom_tickets.settings import TicketsSettings


class Announcements:
    """An exclusive test queue bound to the bus exchange for ``ticket.created.v1.*``."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue

    async def next(self, timeout: float = 15) -> tuple[TicketCreated, aio_pika.abc.AbstractIncomingMessage]:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            message = await self.queue.get(fail=False, no_ack=True)
            if message is not None:
                return TicketCreated.model_validate_json(message.body), message
            await asyncio.sleep(0.05)
        raise AssertionError("no ticket.created message within the timeout")


@pytest.fixture
async def running(migrated_url: str, cleanup_bus: str, amqp_url: str
                  ) -> AsyncIterator[tuple[ServiceParts, httpx.AsyncClient, Announcements]]:
    settings = TicketsSettings(TICKETS_DATABASE_URL=migrated_url, PRIYOM_BUS_PREFIX=cleanup_bus,
                               AMQP_URL=amqp_url, TICKETS_TIMEZONE="UTC")
    parts = build(settings)
    app = create_app(parts)
    connection = await aio_pika.connect(amqp_url)
    async with connection, LifespanManager(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tickets.test"
    ) as client:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(Topology(cleanup_bus).exchange, routing_key=binding(TicketCreated))
        yield parts, client, Announcements(queue)


async def test_routed_contact_becomes_a_ticket_and_is_announced(running, make_routed, nth) -> None:
    parts, client, announcements = running
    event: ContactRouted = make_routed(channel="email", key="<m1@mail.example.ru>")

    await parts.bus.publish(event)
    created, message = await announcements.next()

    assert created.number == nth(1)
    assert (created.contact_id, created.client_id) == (event.contact.contact_id, event.client.client_id)
    assert (created.correlation_id, created.channel, created.idempotency_key) == (
        event.correlation_id, "email", "<m1@mail.example.ru>")
    assert message.routing_key == "ticket.created.v1.email"
    assert message.type == "ticket.created.v1"
    assert message.correlation_id == str(event.correlation_id)
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT

    lookup = await client.get(f"/api/v1/contacts/{event.contact.contact_id}/ticket")
    assert lookup.json()["number"] == nth(1)


async def test_redelivered_contact_is_announced_again_with_the_same_ticket(running, make_routed) -> None:
    parts, client, announcements = running
    event = make_routed()

    await parts.bus.publish(event)
    first, _ = await announcements.next()
    await parts.bus.publish(event)  # the same contact, as a redelivery or a replay would bring it
    again, _ = await announcements.next()
    await parts.bus.publish(make_routed())
    following, _ = await announcements.next()

    assert again == first
    assert parse_number(following.number)[1] == parse_number(first.number)[1] + 1
    health = await client.get("/health")
    assert health.json()["checks"] == {"broker": True, "database": True}
