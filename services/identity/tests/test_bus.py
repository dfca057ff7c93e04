"""Identity on the real RabbitMQ: ContactReceived in, ContactIdentified out, once per arrival."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import aio_pika
import httpx
import pytest
from fastapi import FastAPI

from priyom_contracts import ContactIdentified, MatchKind, Topology
from priyom_identity.settings import IdentitySettings
from priyom_kit import ServiceParts
from priyom_kit.testing import Tap as KitTap
from priyom_kit.testing import bus_tap

from .conftest import ADMIN, contact_event, unique_email


class Tap(KitTap):
    """The kit's tap, reading ContactIdentified messages."""

    async def identified(self) -> ContactIdentified:
        return ContactIdentified.model_validate_json((await self.next()).body)


async def open_tap(amqp_url: str, prefix: str, pattern: str) -> AsyncIterator[Tap]:
    async with bus_tap(amqp_url, prefix, pattern) as tap:
        yield Tap(tap.queue)


@pytest.fixture
async def identified(app: FastAPI, amqp_url: str, settings: IdentitySettings) -> AsyncIterator[Tap]:
    async for tap in open_tap(amqp_url, settings.bus_prefix, "contact.identified.v1.*"):
        yield tap


@pytest.fixture
async def dead_letters(app: FastAPI, amqp_url: str, settings: IdentitySettings) -> AsyncIterator[Tap]:
    """The deployment's dead-letter queue (declared by the Bus at start; deleted by ``cleanup_bus``)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        yield Tap(await channel.declare_queue(Topology(settings.bus_prefix).dead_letter_queue, passive=True))


async def test_contact_is_identified_and_recognised_when_it_returns(
    parts: ServiceParts, identified: Tap, caplog: pytest.LogCaptureFixture
) -> None:
    local = unique_email().split("@")[0]
    first = contact_event(email=f"{local}@example.ru", phone="+7 916 700-10-01", name="Ольга", channel="web")
    await parts.bus.publish(first)
    out = await identified.identified()
    assert out.correlation_id == first.correlation_id and out.idempotency_key == first.idempotency_key
    assert out.channel == "web" and out.contact == first.contact
    assert out.client.first_contact is True and out.client.match is MatchKind.NEW

    again = contact_event(email=f"{local.upper()}@Example.RU", phone="8 (916) 700-10-01", channel="email")
    await parts.bus.publish(again)
    second = await identified.identified()
    assert second.channel == "email" and second.correlation_id == again.correlation_id
    assert second.client.client_id == out.client.client_id
    assert second.client.first_contact is False and second.client.match is MatchKind.EXACT_PHONE

    # What the handler hands to logging, before any masking: it must carry no personal data at all.
    logs = " ".join(str(record.msg) for record in caplog.records)
    assert "contact identified" in logs
    assert local not in logs.lower() and "7001001" not in logs and "Ольга" not in logs


async def test_redelivered_duplicate_republishes_the_same_outcome(
    parts: ServiceParts, identified: Tap
) -> None:
    event = contact_event(email=unique_email())
    await parts.bus.publish(event)
    first = await identified.identified()
    # A redelivery: same idempotency key, new message id (the adapter published it twice).
    await parts.bus.publish(event.model_copy(update={"message_id": uuid.uuid4()}))
    second = await identified.identified()
    assert second == first, "the same outcome, message_id included, so downstream drops it"
    await identified.assert_empty()


async def test_contact_without_identifier_is_identified_as_an_unknown_sender(
    parts: ServiceParts, identified: Tap, dead_letters: Tap
) -> None:
    """Accepted by its channel, so never refused here: it goes on to a ticket on the unknown-sender card."""
    anonymous = contact_event(phone="101")  # an internal extension: no identifier identity can use
    await parts.bus.publish(anonymous)
    outcome = await identified.identified()
    assert outcome.idempotency_key == anonymous.idempotency_key
    assert outcome.client.match is MatchKind.UNKNOWN_SENDER
    await dead_letters.assert_empty(0.2)


async def test_registered_card_reaches_the_router_with_its_account_manager(
    parts: ServiceParts, client: httpx.AsyncClient, identified: Tap
) -> None:
    email = unique_email()
    response = await client.post("/api/v1/clients", headers=ADMIN, json={
        "name": "ООО Ромашка", "account_manager": "Иванова", "sla_tier": "premium",
        "persons": [{"full_name": "Пётр Сидоров", "emails": [email], "phones": ["+7 916 700-10-02"]}]})
    assert response.status_code == 201, response.text
    card = response.json()
    await parts.bus.publish(contact_event(email=email.upper(), channel="email"))
    out = await identified.identified()
    assert str(out.client.client_id) == card["id"]
    assert str(out.client.person_id) == card["persons"][0]["id"]
    assert (out.client.account_manager, out.client.sla_tier, out.client.display_name) == (
        "Иванова", "premium", "ООО Ромашка")
    assert out.client.match is MatchKind.EXACT_EMAIL
    body = json.loads(out.model_dump_json())
    assert body["client"]["first_contact"] is False


async def test_ticket_number_reaches_the_contact_history(parts: ServiceParts, client: httpx.AsyncClient,
                                                         identified: Tap) -> None:
    from datetime import timedelta

    from priyom_contracts import ContactType, TicketCreated, TicketStatus, Urgency, utcnow

    event = contact_event(email=unique_email())
    await parts.bus.publish(event)
    out = await identified.identified()
    now = utcnow()
    await parts.bus.publish(TicketCreated(
        correlation_id=event.correlation_id, channel="web", idempotency_key=event.idempotency_key,
        number="2026-000123", contact_id=event.contact.contact_id, client_id=out.client.client_id,
        first_contact=True, type=ContactType.INFORMATION_REQUEST, urgency=Urgency.NORMAL, status=TicketStatus.NEW,
        team="support", first_response_due_at=now + timedelta(hours=1), resolution_due_at=now + timedelta(days=1)))
    for _ in range(200):
        history = (await client.get(f"/api/v1/clients/{out.client.client_id}/history", headers=ADMIN)).json()
        if history[0]["ticket_number"] is not None:
            break
        await asyncio.sleep(0.05)
    assert [(h["contact_id"], h["ticket_number"]) for h in history] == [
        (str(event.contact.contact_id), "2026-000123")]
