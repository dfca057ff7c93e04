"""Long polling against the fake Bot API and real RabbitMQ: backlog replay, files, albums, the guided start,
and no update confirmed (``getUpdates`` offset) before its contact is published with a broker confirm."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from priyom_contracts import ContactReceived
from priyom_intake_messenger.app import build
from priyom_kit import build_app
from priyom_kit.adapters.testing import QueueReader
from priyom_kit.blobs import FileBlobStore
from priyom_testing.apps import started
from priyom_testing.telegram_bot_api import BOT_ID, FakeBotAPI

from .conftest import CUSTOMER, eventually, photo, private_message, settings_for

Queues = Callable[[str], Awaitable[QueueReader]]


def offsets(fake: FakeBotAPI) -> list[int]:
    return [int(params.get("offset") or 0) for method, params in fake.calls if method == "getUpdates"]


async def contacts_by_key(queue: QueueReader, n: int) -> dict[str, ContactReceived]:
    found: dict[str, ContactReceived] = {}
    for _ in range(n):
        event, _ = await queue.next(ContactReceived, timeout=10)
        found[event.idempotency_key] = event
    return found


async def test_backlog_is_replayed_and_confirmed_after_publishing(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues) -> None:
    fake_bot.add_file("BQACAgIAAxkBAAIBdoc", b"%PDF-1.4 act of acceptance", "documents/file_7.pdf")
    fake_bot.add_file("AgACAgIAAxkBAAIBph1", b"\xff\xd8\xff first photo", "photos/file_8.jpg")
    fake_bot.add_file("AgACAgIAAxkBAAIBph2", b"\xff\xd8\xff second photo", "photos/file_9.jpg")
    # Everything below arrived while the service was down: Telegram kept it.
    text = await fake_bot.add_update(private_message(text="Касса не печатает чеки после обновления"))
    document = await fake_bot.add_update(private_message(document={
        "file_id": "BQACAgIAAxkBAAIBdoc", "file_unique_id": "AgADdoc", "file_name": "акт.pdf",
        "mime_type": "application/pdf", "file_size": 26}, caption="Акт во вложении"))
    album = [await fake_bot.add_update(private_message(media_group_id="1381247912", photo=photo(f, 20), **extra))
             for f, extra in (("AgACAgIAAxkBAAIBph1", {"caption": "Ошибка на экране"}), ("AgACAgIAAxkBAAIBph2", {}))]
    start = await fake_bot.add_update(private_message(text="/start"))
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling")
    contacts = None

    app = build_app(build(settings))
    async with started(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://messenger.test") as client:
        contacts = await contacts_by_key(await bus_queues("identity.contacts"), 3)
        await eventually(lambda: not fake_bot.pending())
        await (await bus_queues("identity.contacts")).assert_empty()
        metrics = (await client.get("/metrics")).text

    blobs = FileBlobStore(tmp_path / "blobs")
    first = contacts[f"tg:{BOT_ID}:{text['update_id']}"].contact
    assert first.body == "Касса не печатает чеки после обновления"
    assert first.sender.name == "Ольга Смирнова"
    assert first.sender.messenger is not None and first.sender.messenger.user_id == str(CUSTOMER)
    assert first.thread.external_thread_id == f"tg:{CUSTOMER}"
    doc = contacts[f"tg:{BOT_ID}:{document['update_id']}"].contact
    assert doc.body == "Акт во вложении"
    [attachment] = doc.attachments
    assert (attachment.filename, attachment.content_type) == ("акт.pdf", "application/pdf")
    assert await blobs.get(attachment.blob_key) == b"%PDF-1.4 act of acceptance"
    pictures = contacts[f"tg:{BOT_ID}:album:1381247912"].contact
    assert pictures.body == "Ошибка на экране"
    assert [await blobs.get(a.blob_key) for a in pictures.attachments] == [
        b"\xff\xd8\xff first photo", b"\xff\xd8\xff second photo"]
    # The backlog was kept (no drop) and confirmed only by a later offset, past every update.
    assert ("deleteWebhook", {"drop_pending_updates": "false"}) in fake_bot.calls
    assert offsets(fake_bot)[0] == 0
    assert max(offsets(fake_bot)) == start["update_id"] + 1 > album[1]["update_id"]
    for line in ('priyom_telegram_updates_total{kind="contact"} 2.0',
                 'priyom_telegram_updates_total{kind="album_part"} 2.0',
                 'priyom_telegram_updates_total{kind="command"} 1.0',
                 'priyom_channel_contacts_total{channel="telegram"} 3.0'):
        assert line in metrics, line
    # /start greeted with the topics as buttons.
    greeting, share = [s["params"] for s in fake_bot.sent if s["method"] == "sendMessage"]
    assert int(greeting["chat_id"]) == int(share["chat_id"]) == CUSTOMER
    assert "О чём ваше обращение" in greeting["text"]
    buttons = [row[0]["callback_data"] for row in greeting["reply_markup"]["inline_keyboard"]]
    assert buttons == ["topic:complaint", "topic:service_request", "topic:information_request",
                       "topic:purchase_interest"]
    assert share["reply_markup"]["keyboard"] == [[{"text": "Поделиться номером", "request_contact": True}]]


async def test_an_update_is_not_confirmed_until_its_contact_is_published(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues) -> None:
    fake_bot.add_file("BQACAgIAAxkBAAIBslow", b"scan bytes", "documents/file_3.png")
    fake_bot.fail_next("getFile", 500, "Internal Server Error", times=2)
    before = await fake_bot.add_update(private_message(text="Сначала текст"))
    document = await fake_bot.add_update(private_message(document={
        "file_id": "BQACAgIAAxkBAAIBslow", "file_unique_id": "AgADslow", "file_name": "скан.png",
        "mime_type": "image/png", "file_size": 10}))
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling")

    app = build_app(build(settings))
    async with started(app):
        queue = await bus_queues("identity.contacts")
        published = await contacts_by_key(queue, 2)
        await eventually(lambda: not fake_bot.pending())

    failed_getfiles = [p for m, p in fake_bot.calls if m == "getFile"]
    assert len(failed_getfiles) == 3  # two Bot API failures, then the download that worked
    # While the document could not be stored, getUpdates confirmed the text before it but never the document.
    polls = offsets(fake_bot)
    assert polls[:3] == [0, document["update_id"], document["update_id"]]
    assert polls[-1] == document["update_id"] + 1
    assert set(published) == {f"tg:{BOT_ID}:{before['update_id']}", f"tg:{BOT_ID}:{document['update_id']}"}


async def test_topic_button_asks_for_the_request_and_the_answer_carries_the_topic(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues) -> None:
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling")
    app = build_app(build(settings))
    async with started(app):
        await fake_bot.add_update(_button_press("topic:complaint"))
        await eventually(lambda: any(s["method"] == "sendMessage" for s in fake_bot.sent))
        prompt = fake_bot.sent[-1]["result"]
        await fake_bot.add_update(private_message(text="Списали деньги дважды за один заказ",
                                                  reply_to_message=prompt))
        event, _ = await (await bus_queues("identity.contacts")).next(ContactReceived, timeout=10)

    assert ("answerCallbackQuery", {"callback_query_id": "4382bfdwdsb323b2d9"}) in fake_bot.calls
    assert prompt["text"] == "Тема: Жалоба. Опишите, пожалуйста, ваш вопрос одним сообщением."
    assert fake_bot.sent[-1]["params"]["reply_markup"] == {"force_reply": True}
    assert event.contact.subject == "Жалоба"
    assert event.contact.body == "Списали деньги дважды за один заказ"


def _button_press(data: str) -> dict[str, Any]:
    user = {"id": CUSTOMER, "is_bot": False, "first_name": "Ольга"}
    chat = {"id": CUSTOMER, "first_name": "Ольга", "type": "private"}
    greeting = {"message_id": 999, "from": {"id": BOT_ID, "is_bot": True, "first_name": "Priyom"}, "chat": chat,
                "date": 1764064800, "text": "Здравствуйте!"}
    return {"update_id": 1, "callback_query": {"id": "4382bfdwdsb323b2d9", "from": user, "message": greeting,
                                               "chat_instance": "-5712345", "data": data}}




async def test_an_expired_file_is_named_in_the_contact_and_the_token_never_logged(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues,
        capfd: pytest.CaptureFixture[str]) -> None:
    fake_bot.add_file("BQACAgIAAxkBAAIold", b"gone", "documents/file_1.pdf")
    fake_bot.expired_paths.add("documents/file_1.pdf")
    fake_bot.fail_next("getUpdates", 500, "Internal Server Error")
    update = await fake_bot.add_update(private_message(caption="Договор", document={
        "file_id": "BQACAgIAAxkBAAIold", "file_unique_id": "AgADold", "file_name": "договор.pdf",
        "mime_type": "application/pdf", "file_size": 4}))
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling")

    app = build_app(build(settings))
    async with started(app):
        event, _ = await (await bus_queues("identity.contacts")).next(ContactReceived, timeout=10)
        await eventually(lambda: not fake_bot.pending())

    assert event.idempotency_key == f"tg:{BOT_ID}:{update['update_id']}"
    assert event.contact.attachments == []
    assert event.contact.body == "Договор\n\n[file not available from the channel (download answered 404): договор.pdf]"
    logs = "".join(capfd.readouterr())
    assert "getUpdates failed" in logs  # the logs were captured
    assert fake_bot.token not in logs and fake_bot.token.split(":")[1] not in logs


async def test_with_the_broker_gone_nothing_is_confirmed(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> None:
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling",
                                  PRIYOM_PUBLISH_TIMEOUT_S=1)
    app = build_app(build(settings))
    async with started(app):
        await eventually(lambda: offsets(fake_bot) != [])  # polling runs
        await app.state.parts.bus.stop()  # the broker connection is gone
        update = await fake_bot.add_update(private_message(text="Пока брокер недоступен"))
        # Asked for again and again from its own id, which confirms only what came before it.
        await eventually(lambda: offsets(fake_bot).count(update["update_id"]) >= 2)

    assert fake_bot.pending() == [update]
    assert max(offsets(fake_bot)) == update["update_id"]


async def test_health_reports_polling_that_stopped_getting_answers(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> None:
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling")
    app = build_app(build(settings))
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://messenger.test") as client:
        await eventually(lambda: len(offsets(fake_bot)) >= 1)
        healthy = await client.get("/health")
        receiver = _receiver_of(app)
        receiver.stale_after_s = 0.5
        fake_bot.fail_next("getUpdates", 502, "Bad Gateway", times=50)
        await asyncio.sleep(1.5)
        stale = await client.get("/health")

    assert healthy.json()["checks"] == {"broker": True, "telegram_polling": True, "database": True}
    assert stale.status_code == 503
    assert stale.json()["checks"] == {"broker": True, "telegram_polling": False, "database": True}


def _receiver_of(app: Any) -> Any:
    [polling] = app.state.parts.leader_jobs  # the bot's lease runs ``partial(receiver.poll, ready)``
    return polling.job.func.__self__


async def test_polling_survives_a_bot_api_outage_at_start(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues) -> None:
    fake_bot.fail_next("deleteWebhook", 502, "Bad Gateway")
    fake_bot.fail_next("getUpdates", 401, "Unauthorized")
    update = await fake_bot.add_update(private_message(text="Сообщение во время сбоя"))
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling")

    app = build_app(build(settings))
    async with started(app):
        event, _ = await (await bus_queues("identity.contacts")).next(ContactReceived, timeout=15)
        await eventually(lambda: not fake_bot.pending())

    assert event.idempotency_key == f"tg:{BOT_ID}:{update['update_id']}"
    assert [m for m, _ in fake_bot.calls[:4]] == ["deleteWebhook", "deleteWebhook", "getUpdates", "getUpdates"]


async def test_an_album_part_in_a_later_batch_becomes_a_follow_up_not_a_repeat(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues) -> None:
    """The album's contact is out when its last part arrives: that part goes out as a contact of its own
    (its own key, the same chat), which the tickets service adds to the album's ticket."""
    for n in (1, 2):
        fake_bot.add_file(f"AgACAgIAAxkBAAIalb{n}", f"photo {n}".encode(), f"photos/file_2{n}.jpg")
    first = private_message(media_group_id="5550001", photo=photo("AgACAgIAAxkBAAIalb1", 7), caption="Чек")
    late = private_message(media_group_id="5550001", photo=photo("AgACAgIAAxkBAAIalb2", 7))
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling")
    app = build_app(build(settings))
    async with started(app):
        queue = await bus_queues("identity.contacts")
        await fake_bot.add_update(first)
        album, _ = await queue.next(ContactReceived, timeout=10)
        await eventually(lambda: not fake_bot.pending())
        await fake_bot.add_update(late)  # the next getUpdates batch
        follow_up, _ = await queue.next(ContactReceived, timeout=10)
        await eventually(lambda: not fake_bot.pending())
        await queue.assert_empty()

    assert album.idempotency_key == f"tg:{BOT_ID}:album:5550001"
    assert album.contact.body == "Чек" and len(album.contact.attachments) == 1
    assert follow_up.idempotency_key.startswith(f"tg:{BOT_ID}:album:5550001:")
    assert len(follow_up.contact.attachments) == 1
    assert follow_up.contact.thread.external_thread_id == album.contact.thread.external_thread_id == f"tg:{CUSTOMER}"
