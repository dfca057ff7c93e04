"""``POST /api/v1/contacts`` and the form page, against the real RabbitMQ and a real blob store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from priyom_intake_web.app import build
from priyom_intake_web.settings import IntakeWebSettings
from priyom_kit import build_app
from priyom_kit.blobs import FileBlobStore
from priyom_kit.public_links import link_key
from priyom_testing.apps import started

from .conftest import LINK_SECRET, ContactsQueue

VALID = {
    "name": "Иван Петров",
    "email": "ivan.petrov@example.ru",
    "phone": "+7 (912) 345-67-89",
    "company": "ООО Ромашка",
    "subject": "Касса",
    "message": "Не печатает чеки после обновления",
    "consent": True,
}


def locs(response: httpx.Response) -> set[tuple[str | int, ...]]:
    assert response.status_code == 422, response.text
    return {tuple(error["loc"]) for error in response.json()["detail"]}


async def test_json_contact_is_published_before_202(client: httpx.AsyncClient,
                                                    contacts: ContactsQueue) -> None:
    response = await client.post("/api/v1/contacts", json=VALID)

    assert response.status_code == 202, response.text
    contact_id = uuid.UUID(response.json()["contact_id"])
    key = link_key(SecretStr(LINK_SECRET), contact_id)
    assert response.json()["status_url"] == f"http://tickets.test/api/v1/contacts/{contact_id}/ticket?key={key}"
    event, message = await contacts.next()
    assert message.type == "contact.received.v1"
    assert message.routing_key == "contact.received.v1.web"
    assert message.delivery_mode == 2  # persistent
    assert event.channel == "web"
    assert event.correlation_id == event.contact.contact_id == contact_id
    assert event.idempotency_key == f"web:{contact_id}"
    assert abs(event.contact.received_at - datetime.now(UTC)) < timedelta(seconds=30)
    sender = event.contact.sender
    assert (sender.name, sender.email, sender.phone, sender.organisation) == (
        "Иван Петров", "ivan.petrov@example.ru", "+7 (912) 345-67-89", "ООО Ромашка")
    assert event.contact.subject == "Касса"
    assert event.contact.body == VALID["message"]
    assert event.contact.attachments == []


async def test_multipart_contact_stores_attachments(client: httpx.AsyncClient, contacts: ContactsQueue,
                                                    settings: IntakeWebSettings) -> None:
    form = {**VALID, "consent": "on", "email": "", "company": ""}
    files = [
        ("attachments", ("C:\\Users\\ivan\\Desktop\\чек.png", b"\x89PNG fake image", "image/png")),
        ("attachments", ("../../etc/passwd", b"root:x:0:0", "text/plain")),
    ]
    response = await client.post("/api/v1/contacts", data=form, files=files)

    assert response.status_code == 202, response.text
    event, _ = await contacts.next()
    assert event.contact.sender.email is None and event.contact.sender.organisation is None
    assert event.contact.sender.phone == "+7 (912) 345-67-89"
    blobs = FileBlobStore(settings.blob_dir)
    first, second = event.contact.attachments
    assert (first.filename, first.content_type, first.size) == ("чек.png", "image/png", 15)
    assert await blobs.get(first.blob_key) == b"\x89PNG fake image"
    assert second.filename == "passwd"
    assert await blobs.get(second.blob_key) == b"root:x:0:0"


async def test_invalid_input_names_each_field_and_publishes_nothing(
        client: httpx.AsyncClient, contacts: ContactsQueue) -> None:
    response = await client.post("/api/v1/contacts", json={"name": "Иван", "message": "   "})

    assert locs(response) == {("body", "message"), ("body", "email"), ("body", "phone"), ("body", "consent")}
    assert all("input" not in error for error in response.json()["detail"])  # no personal data echoed
    bad_email = await client.post("/api/v1/contacts", json={**VALID, "email": "ivan@", "phone": None})
    assert locs(bad_email) == {("body", "email")}
    too_long = await client.post("/api/v1/contacts", data={**VALID, "message": "я" * 501})
    assert locs(too_long) == {("body", "message")}
    not_json = await client.post("/api/v1/contacts", content=b"{",
                                 headers={"content-type": "application/json"})
    assert locs(not_json) == {("body",)}
    await contacts.assert_empty()


async def test_attachment_limits(client: httpx.AsyncClient, contacts: ContactsQueue) -> None:
    oversize = await client.post("/api/v1/contacts", data=VALID,
                                 files=[("attachments", ("big.bin", b"x" * 1001, "text/plain"))])
    assert locs(oversize) == {("body", "attachments", 0)}

    four = [("attachments", (f"{i}.txt", b"hi", "text/plain")) for i in range(4)]
    too_many = await client.post("/api/v1/contacts", data={**VALID, "message": ""}, files=four)
    assert locs(too_many) == {("body", "attachments"), ("body", "message")}

    huge = await client.post("/api/v1/contacts", data=VALID,
                             files=[("attachments", ("huge.bin", b"x" * 20_001, "application/octet-stream"))])
    assert huge.status_code == 413

    async def chunked() -> object:  # no Content-Length: the limit holds while reading
        for _ in range(30):
            yield b"x" * 1000

    streamed = await client.post("/api/v1/contacts", content=chunked(),
                                 headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    await contacts.assert_empty()


async def test_idempotency_key_gives_the_same_contact(client: httpx.AsyncClient,
                                                     contacts: ContactsQueue) -> None:
    headers = {"Idempotency-Key": "form-5b0c2f"}
    first = await client.post("/api/v1/contacts", json=VALID, headers=headers)
    again = await client.post("/api/v1/contacts", json=VALID, headers=headers)
    other = await client.post("/api/v1/contacts", json=VALID, headers={"Idempotency-Key": "form-other"})

    assert first.status_code == again.status_code == other.status_code == 202
    assert first.json()["contact_id"] == again.json()["contact_id"] != other.json()["contact_id"]
    events = [(await contacts.next())[0] for _ in range(3)]
    assert [e.idempotency_key for e in events] == ["web:form-5b0c2f", "web:form-5b0c2f", "web:form-other"]
    assert events[0].message_id != events[1].message_id
    bad = await client.post("/api/v1/contacts", json=VALID, headers={"Idempotency-Key": "with space"})
    assert locs(bad) == {("header", "Idempotency-Key")}


async def test_unsupported_media_type(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/contacts", content=b"hello", headers={"content-type": "text/plain"})
    assert response.status_code == 415


async def test_broker_unavailable_answers_503(app: FastAPI, client: httpx.AsyncClient) -> None:
    await app.state.parts.bus.stop()

    response = await client.post("/api/v1/contacts", json=VALID, headers={"Idempotency-Key": "k1"})

    assert response.status_code == 503
    assert "Idempotency-Key" in response.json()["detail"]
    assert response.headers["retry-after"] == "5"


async def test_form_page_renders(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for field in ("name", "email", "phone", "company", "subject", "message", "attachments", "consent"):
        assert f'name="{field}"' in page
        assert f'for="f-{field}"' in page
    assert 'type="email"' in page and 'type="tel"' in page
    assert 'maxlength="500"' in page  # the message limit from settings
    assert 'data-tickets-url="http://tickets.test"' in page
    assert "{{" not in page
    assert "http://" not in page.replace("http://tickets.test", "")  # no external assets


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"] == {"broker": True}


async def test_without_a_link_secret_the_answer_carries_no_status_link(settings: IntakeWebSettings) -> None:
    """Public links off (PRIYOM_PUBLIC_LINK_SECRET empty): no link, rather than one tickets would refuse."""
    off = settings.model_copy(update={"public_link_secret": None})
    app = build_app(build(off))
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://web.test") as client:
        response = await client.post("/api/v1/contacts", json=VALID)
    assert response.status_code == 202, response.text
    assert response.json()["status_url"] is None and uuid.UUID(response.json()["contact_id"])
