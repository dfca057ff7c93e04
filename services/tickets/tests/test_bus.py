"""The whole service on the real RabbitMQ: a routed contact in, one ticket and its announcement out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import aio_pika
import httpx
import pytest

from priyom_contracts import (
    ContactRouted,
    DeliveryReported,
    DeliveryStatus,
    OutboundReply,
    ThreadHint,
    TicketCreated,
    Topology,
    binding,
    utcnow,
)
from priyom_kit import ServiceParts
from priyom_testing.apps import started
from priyom_tickets.app import build, create_app
from priyom_tickets.numbering import parse_number
from priyom_tickets.settings import TicketsSettings

ADMIN = "bus-test-admin-token"


class Announcements:
    """An exclusive test queue bound to the bus exchange for ``ticket.created.v1.*``."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue

    async def next(self, timeout: float = 15) -> tuple[TicketCreated, aio_pika.abc.AbstractIncomingMessage]:
        message = await next_message(self.queue, timeout)
        return TicketCreated.model_validate_json(message.body), message


async def next_message(queue: aio_pika.abc.AbstractQueue, timeout: float = 15
                       ) -> aio_pika.abc.AbstractIncomingMessage:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        message = await queue.get(fail=False, no_ack=True)
        if message is not None:
            return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing arrived on {queue.name} within {timeout}s")


@pytest.fixture
async def running(migrated_url: str, cleanup_bus: str, amqp_url: str
                  ) -> AsyncIterator[tuple[ServiceParts, httpx.AsyncClient, Announcements]]:
    settings = TicketsSettings(TICKETS_DATABASE_URL=migrated_url, PRIYOM_BUS_PREFIX=cleanup_bus,
                               AMQP_URL=amqp_url, timezone="UTC",
                               PRIYOM_ADMIN_TOKEN=ADMIN)
    parts = build(settings)
    app = create_app(parts)
    connection = await aio_pika.connect(amqp_url)
    async with connection, started(app), httpx.AsyncClient(
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

    lookup = await client.get(f"/api/v1/contacts/{event.contact.contact_id}/ticket",
                              headers={"Authorization": f"Bearer {ADMIN}"})
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


async def test_notice_goes_to_the_channel_and_its_delivery_report_comes_back(
    running, make_routed, amqp_url: str, cleanup_bus: str
) -> None:
    parts, client, announcements = running
    topology = Topology(cleanup_bus)
    event = make_routed(channel="email", key="<q7@mail.example.ru>")
    await parts.bus.publish(event)
    created, _ = await announcements.next()

    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        outbound = await channel.get_queue(topology.queue("intake-email.outbound").name, ensure=False)
        message = await next_message(outbound)
        notice = OutboundReply.model_validate_json(message.body)
        assert message.routing_key == "reply.outbound.v1.email"
        assert (notice.ticket_number, notice.recipient.email) == (created.number, "anna@example.ru")
        assert created.number in notice.body

        # The adapter sent it; its Message-ID is what the customer's answer will quote.
        await parts.bus.publish(DeliveryReported(
            correlation_id=notice.correlation_id, channel="email",
            idempotency_key=f"{notice.reply_id}:delivered", ticket_number=notice.ticket_number,
            reply_id=notice.reply_id, status=DeliveryStatus.DELIVERED,
            external_message_id="<notice-1@priyom.example>"))
        headers = {"Authorization": f"Bearer {ADMIN}"}

        async def notice_status() -> str | None:
            detail = (await client.get(f"/api/v1/tickets/{created.number}", headers=headers)).json()
            return next(m["delivery_status"] for m in detail["messages"] if m["direction"] == "outbound")

        await wait_until(lambda: notice_status(), "delivered")
        answer = make_routed(channel="email", client_id=event.client.client_id,
                             thread=ThreadHint(in_reply_to="<notice-1@priyom.example>"))
        await parts.bus.publish(answer)
        await wait_until(lambda: lookup_number(client, answer.contact.contact_id), created.number)

        # A report about a reply nobody sent can never apply: it is dead-lettered with the reason, and tickets
        # (the keeper of the dead-letter queue) lists it for an admin.
        stray = DeliveryReported(correlation_id=uuid.uuid4(), channel="email", idempotency_key="x:failed",
                                 ticket_number=created.number, reply_id=uuid.uuid4(),
                                 status=DeliveryStatus.FAILED)
        await parts.bus.publish(stray)

        async def dead_letters() -> list[tuple[str, str | None, bool]]:
            page = (await client.get("/api/v1/dead-letters", headers=headers)).json()
            return [(d["source"], d["message_id"], "unknown reply" in d["reason"]) for d in page["items"]]

        await wait_until(dead_letters, [(topology.queue("tickets.deliveries").name, str(stray.message_id), True)])


async def lookup_number(client: httpx.AsyncClient, contact_id: uuid.UUID) -> str | None:
    response = await client.get(f"/api/v1/contacts/{contact_id}/ticket", headers={"Authorization": f"Bearer {ADMIN}"})
    return response.json()["number"] if response.status_code == 200 else None


async def wait_until(probe, expected, timeout: float = 15) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while (got := await probe()) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"still {got!r}, waited for {expected!r}"
        await asyncio.sleep(0.1)


async def test_the_running_scheduler_marks_late_tickets(migrated_url: str, cleanup_bus: str, amqp_url: str,
                                                         tmp_path, make_routed) -> None:
    sla_file = tmp_path / "sla.json"
    sla_file.write_text('{"targets": {}}')  # no targets: the router's deadlines stand
    settings = TicketsSettings(TICKETS_DATABASE_URL=migrated_url, PRIYOM_BUS_PREFIX=cleanup_bus,
                               AMQP_URL=amqp_url, PRIYOM_ADMIN_TOKEN=ADMIN, sla_file=sla_file,
                               scheduler_interval_s=0.2, team_heads={"service": "Петров"})
    parts = build(settings)
    app = create_app(parts)
    event = make_routed(resolution_due_at=utcnow() - timedelta(minutes=5))
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://tickets.test") as client:
        await parts.bus.publish(event)
        await wait_until(lambda: lookup_number(client, event.contact.contact_id), ANY_NUMBER)
        number = await lookup_number(client, event.contact.contact_id)
        headers = {"Authorization": f"Bearer {ADMIN}"}

        async def escalated_to() -> str | None:
            return (await client.get(f"/api/v1/tickets/{number}", headers=headers)).json()["escalated_to"]

        await wait_until(escalated_to, "Петров")


class _AnyNumber:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and parse_number(other) is not None

    def __repr__(self) -> str:
        return "any ticket number"


ANY_NUMBER = _AnyNumber()
