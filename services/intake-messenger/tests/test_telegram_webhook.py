"""Webhook mode: registration with the secret, verification, size cap, albums, and 200 only after publishing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from pydantic import ValidationError

from priyom_contracts import ContactReceived, Topology
from priyom_intake_messenger.app import build
from priyom_intake_messenger.settings import IntakeMessengerSettings
from priyom_kit import build_app
from priyom_kit.adapters.testing import QueueReader
from priyom_kit.blobs import FileBlobStore
from priyom_testing.apps import started
from priyom_testing.telegram_bot_api import BOT_ID, FakeBotAPI

from .conftest import photo, private_message, settings_for

SECRET = "w3bh00k-secret_for-tests"
PUBLIC_URL = "https://priyom.example.ru/telegram/webhook"
Queues = Callable[[str], Awaitable[QueueReader]]


@pytest.fixture
async def client(fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str,
                 tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="webhook",
                                  TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_WEBHOOK_URL=PUBLIC_URL)
    app = build_app(build(settings))
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://messenger.test") as c:
        yield c


async def post(client: httpx.AsyncClient, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await client.post("/telegram/webhook", content=json.dumps(update), headers=headers)


async def test_registers_the_webhook_with_its_secret_keeping_the_backlog(
        client: httpx.AsyncClient, fake_bot: FakeBotAPI) -> None:
    assert (fake_bot.webhook_url, fake_bot.webhook_secret) == (PUBLIC_URL, SECRET)
    [(_, params)] = [c for c in fake_bot.calls if c[0] == "setWebhook"]
    assert params["drop_pending_updates"] == "false"
    assert params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert ("getWebhookInfo", {}) in fake_bot.calls
    assert not [c for c in fake_bot.calls if c[0] == "getUpdates"]


async def test_answers_200_only_once_the_contact_is_on_the_bus(client: httpx.AsyncClient,
                                                               bus_queues: Queues) -> None:
    queue = await bus_queues("identity.contacts")
    update = private_message(text="Здравствуйте, не работает эквайринг")

    response = await post(client, update)

    assert response.status_code == 200, response.text
    event, message = await queue.next(ContactReceived, timeout=0.5)  # already confirmed by the broker
    assert event.idempotency_key == message.headers["x-idempotency-key"] == f"tg:{BOT_ID}:{update['update_id']}"
    assert event.contact.body == "Здравствуйте, не работает эквайринг"

    again = await post(client, update)  # Telegram re-sends what it believes unanswered: the same contact
    assert again.status_code == 200
    repeat, _ = await queue.next(ContactReceived, timeout=0.5)
    assert repeat.contact.contact_id == event.contact.contact_id
    assert repeat.idempotency_key == event.idempotency_key


async def test_wrong_or_missing_secret_and_oversized_bodies_are_refused(client: httpx.AsyncClient,
                                                                        bus_queues: Queues) -> None:
    queue = await bus_queues("identity.contacts")
    update = private_message(text="поддельное обновление")

    assert (await post(client, update, secret="w3bh00k-secret_for-testX")).status_code == 401
    assert (await post(client, update, secret=None)).status_code == 401
    huge = private_message(text="я" * 40_000)  # 80 KB of UTF-8 over the 64 KiB cap
    assert (await post(client, huge)).status_code == 413
    assert (await client.post("/telegram/webhook", content=b"not json",
                              headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})).status_code == 400
    await queue.assert_empty()


async def test_album_parts_posted_together_become_one_contact(
        client: httpx.AsyncClient, fake_bot: FakeBotAPI, bus_queues: Queues, tmp_path: Path) -> None:
    queue = await bus_queues("identity.contacts")
    fake_bot.add_file("AgACAgIAAxkBAAIwh1", b"photo one", "photos/file_1.jpg")
    fake_bot.add_file("AgACAgIAAxkBAAIwh2", b"photo two", "photos/file_2.jpg")
    parts = [private_message(media_group_id="99001", photo=photo("AgACAgIAAxkBAAIwh1", 9), caption="Чек"),
             private_message(media_group_id="99001", photo=photo("AgACAgIAAxkBAAIwh2", 9))]

    responses = await asyncio.gather(*(post(client, part) for part in parts))

    assert [r.status_code for r in responses] == [200, 200]
    event, _ = await queue.next(ContactReceived, timeout=0.5)
    assert event.idempotency_key == f"tg:{BOT_ID}:album:99001"
    blobs = FileBlobStore(tmp_path / "blobs")
    assert sorted([await blobs.get(a.blob_key) for a in event.contact.attachments]) == [b"photo one", b"photo two"]
    await queue.assert_empty()


async def test_a_failure_answers_503_so_telegram_sends_again(client: httpx.AsyncClient, fake_bot: FakeBotAPI,
                                                            bus_queues: Queues) -> None:
    queue = await bus_queues("identity.contacts")
    fake_bot.add_file("BQACAgIAAxkBAAIvoice", b"OggS voice", "voice/file_5.oga")
    fake_bot.fail_next("getFile", 502, "Bad Gateway")
    update = private_message(voice={"file_id": "BQACAgIAAxkBAAIvoice", "file_unique_id": "AgADv",
                                    "duration": 3, "mime_type": "audio/ogg", "file_size": 10})

    first = await post(client, update)
    await queue.assert_empty()
    second = await post(client, update)

    assert (first.status_code, second.status_code) == (503, 200)
    event, _ = await queue.next(ContactReceived, timeout=0.5)
    assert [a.filename for a in event.contact.attachments] == [f"voice_{update['message']['message_id']}.ogg"]


async def test_with_the_broker_gone_the_webhook_answers_503(fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str,
                                                             tmp_path: Path) -> None:
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="webhook",
                                  TELEGRAM_WEBHOOK_SECRET=SECRET, PRIYOM_PUBLISH_TIMEOUT_S=1)
    app = build_app(build(settings))
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://messenger.test") as client:
        await app.state.parts.bus.stop()
        response = await post(client, private_message(text="Пока брокер недоступен"))
        health = await client.get("/health")

    assert response.status_code == 503
    assert response.json() == {"detail": "not registered yet, send again"}
    assert health.status_code == 503


def test_webhook_mode_refuses_to_start_without_a_usable_secret() -> None:
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        IntakeMessengerSettings(TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_MODE="webhook")
    for weak in ("short", "has spaces in it, sixteen+", "кириллица-не-годится-1234"):
        with pytest.raises(ValidationError, match="16-256 characters|at least 16 characters"):
            IntakeMessengerSettings(TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_MODE="webhook", TELEGRAM_WEBHOOK_SECRET=weak)
    secret = IntakeMessengerSettings(TELEGRAM_WEBHOOK_SECRET=SECRET).telegram_webhook_secret
    assert secret is not None and secret.get_secret_value() == SECRET and SECRET not in repr(secret)


async def test_an_unreadable_update_is_dead_lettered_whole_so_it_cannot_block_the_bot(
        client: httpx.AsyncClient, bus_queues: Queues, amqp_url: str, cleanup_bus: str) -> None:
    queue = await bus_queues("identity.contacts")
    broken = private_message(text="нет даты")
    del broken["message"]["date"]  # a shape no Bot API version sends; it could never be read

    response = await post(client, broken)

    assert response.status_code == 200
    await queue.assert_empty()
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        dead = await channel.get_queue(Topology(cleanup_bus).dead_letter_queue, ensure=True)
        message = await dead.get(no_ack=True, fail=False)
    assert message is not None and json.loads(message.body) == broken
    assert message.headers["x-error"] == f"unreadable Bot API update {broken['update_id']}: KeyError 'date'"
    assert (message.headers["x-error-kind"], message.routing_key) == ("permanent", "contact.received.v1.telegram")
    good = await post(client, private_message(text="следующее сообщение"))
    assert good.status_code == 200
    event, _ = await queue.next(ContactReceived, timeout=0.5)
    assert event.contact.body == "следующее сообщение"


def test_the_bot_api_base_must_not_carry_the_token_in_clear() -> None:
    with pytest.raises(ValidationError, match="https"):
        IntakeMessengerSettings(TELEGRAM_API_BASE="http://bot-api.example.ru")
    assert IntakeMessengerSettings(TELEGRAM_API_BASE="http://127.0.0.1:8081/").telegram_api_base == \
        "http://127.0.0.1:8081"
    assert IntakeMessengerSettings().telegram_api_base == "https://api.telegram.org"


async def test_an_album_that_failed_is_refused_whole_and_forms_again_when_resent(
        client: httpx.AsyncClient, fake_bot: FakeBotAPI, bus_queues: Queues) -> None:
    queue = await bus_queues("identity.contacts")
    fake_bot.add_file("AgACAgIAAxkBAAIal1", b"first", "photos/file_11.jpg")
    fake_bot.add_file("AgACAgIAAxkBAAIal2", b"second", "photos/file_12.jpg")
    fake_bot.fail_next("getFile", 500, "Internal Server Error")
    parts = [private_message(media_group_id="77001", photo=photo("AgACAgIAAxkBAAIal1", 5)),
             private_message(media_group_id="77001", photo=photo("AgACAgIAAxkBAAIal2", 6))]

    failed = await asyncio.gather(*(post(client, part) for part in parts))
    await queue.assert_empty()
    resent = await asyncio.gather(*(post(client, part) for part in parts))

    assert [r.status_code for r in failed] == [503, 503]
    assert [r.status_code for r in resent] == [200, 200]
    event, _ = await queue.next(ContactReceived, timeout=0.5)
    assert len(event.contact.attachments) == 2
    await queue.assert_empty()


async def test_a_late_album_part_is_its_own_contact_and_a_resent_part_repeats_its_first(
        client: httpx.AsyncClient, fake_bot: FakeBotAPI, bus_queues: Queues) -> None:
    queue = await bus_queues("identity.contacts")
    for n in (1, 2):
        fake_bot.add_file(f"AgACAgIAAxkBAAIalw{n}", f"photo {n}".encode(), f"photos/file_3{n}.jpg")
    first = private_message(media_group_id="77002", photo=photo("AgACAgIAAxkBAAIalw1", 7))
    late = private_message(media_group_id="77002", photo=photo("AgACAgIAAxkBAAIalw2", 7))

    assert (await post(client, first)).status_code == 200
    album, _ = await queue.next(ContactReceived, timeout=5)
    assert (await post(client, late)).status_code == 200
    follow_up, _ = await queue.next(ContactReceived, timeout=5)
    assert (await post(client, first)).status_code == 200  # Telegram re-sends: no answer reached it
    again, _ = await queue.next(ContactReceived, timeout=5)
    await queue.assert_empty()

    assert album.idempotency_key == f"tg:{BOT_ID}:album:77002"
    assert follow_up.idempotency_key.startswith(f"tg:{BOT_ID}:album:77002:")
    assert follow_up.contact.thread.external_thread_id == album.contact.thread.external_thread_id
    assert again.idempotency_key == album.idempotency_key  # the same contact: consumers drop the repeat
