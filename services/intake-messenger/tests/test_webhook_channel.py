"""The JSON webhook channel's endpoint in the running service: signed, validated, 202 after publishing."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from priyom_contracts import (
    ContactReceived,
    DeliveryReported,
    DeliveryStatus,
    MessengerId,
    OutboundReply,
    Recipient,
)
from priyom_intake_messenger.app import build
from priyom_intake_messenger.jsonhook.adapter import sign
from priyom_intake_messenger.settings import IntakeMessengerSettings
from priyom_kit import build_app
from priyom_kit.adapters.testing import QueueReader
from priyom_kit.blobs import FileBlobStore
from priyom_testing.apps import started
from priyom_testing.json_webhook_peer import JsonWebhookPeer

from .conftest import PEER_SECRET, migrated_sqlite, publish

Queues = Callable[[str], Awaitable[QueueReader]]
MESSAGE = {"message_id": "wa-77", "sent_at": "2026-11-25T09:15:00+03:00",
           "sender": {"id": "79161234567", "name": "Сергей Иванов", "phone": "+7 916 123-45-67"},
           "conversation_id": "conv-1", "text": "Когда приедет мастер?",
           "attachments": [{"filename": "фото.jpg", "content_type": "image/jpeg",
                            "content_base64": base64.b64encode(b"\xff\xd8 jpeg").decode()}]}


@pytest.fixture
async def client(peer: JsonWebhookPeer, cleanup_bus: str, amqp_url: str,
                 tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = IntakeMessengerSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus,
                                       database_url=await migrated_sqlite(tmp_path),
                                       PRIYOM_BLOB_DIR=tmp_path / "blobs", webhook_secret=PEER_SECRET.decode(),
                                       webhook_outbound_url=peer.url, max_request_bytes=4096)
    app = build_app(build(settings))
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://messenger.test") as c:
        yield c


async def post(client: httpx.AsyncClient, message: dict[str, Any], secret: bytes = PEER_SECRET) -> httpx.Response:
    body = json.dumps(message).encode()
    return await client.post("/webhook/messages", content=body,
                             headers={"X-Priyom-Signature": sign(secret, body), "Content-Type": "application/json"})


async def test_signed_message_is_published_before_202(client: httpx.AsyncClient, bus_queues: Queues,
                                                      tmp_path: Path) -> None:
    queue = await bus_queues("identity.contacts")

    response = await post(client, MESSAGE)

    assert response.status_code == 202, response.text
    event, message = await queue.next(ContactReceived, timeout=0.5)
    assert response.json() == {"contact_ids": [str(event.contact.contact_id)]}
    assert message.routing_key == "contact.received.v1.webhook"
    assert event.idempotency_key == "webhook:wa-77"
    assert event.contact.received_at.isoformat() == "2026-11-25T06:15:00+00:00"
    assert event.contact.sender.phone == "+7 916 123-45-67"
    [photo] = event.contact.attachments
    assert await FileBlobStore(tmp_path / "blobs").get(photo.blob_key) == b"\xff\xd8 jpeg"


async def test_unsigned_invalid_and_oversized_messages_are_refused(client: httpx.AsyncClient,
                                                                   bus_queues: Queues) -> None:
    queue = await bus_queues("identity.contacts")

    assert (await post(client, MESSAGE, secret=b"someone else")).status_code == 401
    invalid = await post(client, {**MESSAGE, "sent_at": "2026-11-25T09:15:00", "sender": {}})
    assert invalid.status_code == 422
    assert {tuple(e["loc"]) for e in invalid.json()["detail"]} == {("sent_at",), ("sender", "id")}
    assert "Сергей" not in invalid.text  # errors name fields, never echo the customer's data
    assert (await post(client, {**MESSAGE, "text": "x" * 5000})).status_code == 413
    await queue.assert_empty()


async def test_replies_are_signed_and_a_throttling_peer_is_waited_for(
        client: httpx.AsyncClient, peer: JsonWebhookPeer, bus_queues: Queues, amqp_url: str,
        cleanup_bus: str) -> None:
    peer.throttle.append(1)  # the first POST answers 429 with Retry-After: 1
    reply_id = uuid.uuid4()
    reply = OutboundReply(correlation_id=uuid.uuid4(), channel="webhook", idempotency_key=str(reply_id),
                          ticket_number="2026-000321", reply_id=reply_id, body="Мастер приедет завтра",
                          recipient=Recipient(messenger=MessengerId(channel="webhook", user_id="79161234567"),
                                              external_thread_id="conv-1"))
    deliveries = await bus_queues("tickets.deliveries")

    await publish(amqp_url, cleanup_bus, reply)
    statuses = [(await deliveries.next(DeliveryReported, timeout=10))[0] for _ in range(2)]

    assert [s.status for s in statuses] == [DeliveryStatus.RETRYING, DeliveryStatus.DELIVERED]
    assert statuses[1].external_message_id == "peer-1"
    [received] = peer.received  # the peer verified the signature before accepting it
    assert received == {"reply_id": str(reply_id), "ticket_number": "2026-000321",
                        "recipient": {"id": "79161234567", "conversation_id": "conv-1"}, "subject": None,
                        "text": "Мастер приедет завтра", "in_reply_to": None, "attachments": []}
