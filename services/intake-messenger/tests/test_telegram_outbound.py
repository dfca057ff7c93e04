"""Replies from tickets delivered to the fake Bot API through the running service, with their reports."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from priyom_contracts import (
    AttachmentRef,
    ContactReceived,
    DeliveryReported,
    DeliveryStatus,
    MessengerId,
    OutboundReply,
    Recipient,
    SignInCode,
    utcnow,
)
from priyom_intake_messenger.app import build
from priyom_kit import build_app
from priyom_kit.adapters.testing import QueueReader
from priyom_kit.blobs import FileBlobStore
from priyom_testing.apps import started
from priyom_testing.telegram_bot_api import BOT_ID, FakeBotAPI

from .conftest import CUSTOMER, eventually, publish, settings_for

Queues = Callable[[str], Awaitable[QueueReader]]


@pytest.fixture
async def service(fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[None]:
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling")
    app = build_app(build(settings))
    async with started(app):
        yield


def reply_to(chat: int, body: str, attachments: list[AttachmentRef] | None = None) -> OutboundReply:
    reply_id = uuid.uuid4()
    return OutboundReply(correlation_id=uuid.uuid4(), channel="telegram", idempotency_key=str(reply_id),
                         ticket_number="2026-000123", reply_id=reply_id, body=body, attachments=attachments or [],
                         recipient=Recipient(messenger=MessengerId(channel="telegram", user_id=str(chat))))


async def test_reply_with_document_is_sent_and_reported(service: None, fake_bot: FakeBotAPI, amqp_url: str,
                                                        cleanup_bus: str, tmp_path: Path,
                                                        bus_queues: Queues) -> None:
    key = await FileBlobStore(tmp_path / "blobs").put(b"%PDF-1.4 invoice 123")
    invoice = AttachmentRef(blob_key=key, filename="счёт-123.pdf", content_type="application/pdf", size=20)
    reply = reply_to(CUSTOMER, "Счёт во вложении. Ответ по заявке 2026-000123.", [invoice])

    await publish(amqp_url, cleanup_bus, reply)
    report, _ = await (await bus_queues("tickets.deliveries")).next(DeliveryReported, timeout=10)

    text, document = fake_bot.sent
    assert (text["method"], int(text["params"]["chat_id"])) == ("sendMessage", CUSTOMER)
    assert text["params"]["text"] == reply.body
    assert document["method"] == "sendDocument"
    assert document["params"]["document"].filename == "счёт-123.pdf"
    assert document["params"]["document"].data == b"%PDF-1.4 invoice 123"
    assert report.status == DeliveryStatus.DELIVERED
    assert report.external_message_id == f"tg:{CUSTOMER}:{text['result']['message_id']}"
    assert (report.ticket_number, report.reply_id) == ("2026-000123", reply.reply_id)


async def test_flood_limit_is_waited_out_and_reported(service: None, fake_bot: FakeBotAPI, amqp_url: str,
                                                      cleanup_bus: str, bus_queues: Queues) -> None:
    fake_bot.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    reply = reply_to(CUSTOMER, "Мастер приедет завтра с 10 до 12.")
    deliveries = await bus_queues("tickets.deliveries")

    await publish(amqp_url, cleanup_bus, reply)
    retrying, _ = await deliveries.next(DeliveryReported, timeout=10)
    delivered, _ = await deliveries.next(DeliveryReported, timeout=10)

    assert retrying.status == DeliveryStatus.RETRYING
    assert retrying.detail is not None and "retry after 1" in retrying.detail
    assert retrying.idempotency_key == f"{reply.reply_id}:retrying"
    assert delivered.status == DeliveryStatus.DELIVERED
    assert fake_bot.sent_texts() == [reply.body]  # sent once, after the wait


async def test_blocked_bot_is_reported_failed_once(service: None, fake_bot: FakeBotAPI, amqp_url: str,
                                                   cleanup_bus: str, bus_queues: Queues) -> None:
    fake_bot.blocked_chats.add(CUSTOMER)
    reply = reply_to(CUSTOMER, "Ваша заявка закрыта.")
    deliveries = await bus_queues("tickets.deliveries")

    await publish(amqp_url, cleanup_bus, reply)
    report, _ = await deliveries.next(DeliveryReported, timeout=10)

    assert report.status == DeliveryStatus.FAILED
    assert report.detail == "Telegram refused: Forbidden: bot was blocked by the user"
    await deliveries.assert_empty(wait=0.5)
    assert fake_bot.sent == []


async def test_long_reply_is_split_under_the_bot_api_limit(service: None, fake_bot: FakeBotAPI, amqp_url: str,
                                                           cleanup_bus: str, bus_queues: Queues) -> None:
    paragraph = "Подробный ответ инженера о замене фискального накопителя. " * 20
    body = "\n".join([paragraph] * 5)  # about 5,900 characters

    await publish(amqp_url, cleanup_bus, reply_to(CUSTOMER, body))
    report, _ = await (await bus_queues("tickets.deliveries")).next(DeliveryReported, timeout=10)

    texts = fake_bot.sent_texts()
    assert report.status == DeliveryStatus.DELIVERED
    assert len(texts) == 2 and all(len(t) <= 4096 for t in texts)
    assert "\n".join(texts) == body


async def test_the_bot_token_is_never_shown(fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str,
                                      tmp_path: Path) -> None:
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path)
    assert fake_bot.token not in repr(settings) and fake_bot.token not in str(settings.model_dump())


async def test_closing_survey_buttons_and_the_rating_published_before_acknowledged(
        service: None, fake_bot: FakeBotAPI, amqp_url: str, cleanup_bus: str, bus_queues: Queues) -> None:
    survey = reply_to(CUSTOMER, "Статус обращения 2026-000123: закрыто. Оцените, пожалуйста, нашу работу.")
    survey = survey.model_copy(update={"survey": True})
    contacts = await bus_queues("identity.contacts")

    await publish(amqp_url, cleanup_bus, survey)
    await (await bus_queues("tickets.deliveries")).next(DeliveryReported, timeout=10)
    [sent] = fake_bot.sent
    buttons = sent["params"]["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["1", "2", "3", "4", "5"]
    press = await fake_bot.add_update(_press(buttons[4]["callback_data"], sent["result"]))
    await fake_bot.add_update(_press("rate:2026-000123:9", sent["result"]))  # not a button we sent
    answer, message = await contacts.next(ContactReceived, timeout=10)
    await eventually(lambda: not fake_bot.pending())

    # The customer's answer "5" on the chat, naming the ticket: tickets records it as the rating.
    assert answer.contact.body == "5"
    assert answer.contact.thread.ticket_number == "2026-000123"
    assert answer.contact.thread.external_thread_id == f"tg:{CUSTOMER}"
    assert answer.contact.sender.messenger is not None and answer.contact.sender.messenger.user_id == str(CUSTOMER)
    assert answer.contact.sender.name == "Ольга"
    assert message.routing_key == "contact.received.v1.telegram"
    assert answer.idempotency_key == f"tg:{BOT_ID}:{press['update_id']}"
    assert ("answerCallbackQuery", {"callback_query_id": press["callback_query"]["id"],
                                    "text": "Спасибо за оценку!"}) in fake_bot.calls
    await contacts.assert_empty()


_presses = itertools.count(1)


def _press(data: str, message: dict[str, Any]) -> dict[str, Any]:
    return {"update_id": 0, "callback_query": {
        "id": f"86420{next(_presses)}", "from": {"id": CUSTOMER, "is_bot": False, "first_name": "Ольга"},
        "message": message, "chat_instance": "-5712345", "data": data}}


async def test_replies_that_cannot_be_sent_are_reported_failed_with_why(
        service: None, fake_bot: FakeBotAPI, amqp_url: str, cleanup_bus: str, bus_queues: Queues) -> None:
    deliveries = await bus_queues("tickets.deliveries")
    no_chat = reply_to(CUSTOMER, "Ответ").model_copy(update={"recipient": Recipient(email="ivan@example.ru")})
    bad_thread = reply_to(CUSTOMER, "Ответ").model_copy(update={"recipient": Recipient(external_thread_id="tg:x")})
    empty = reply_to(CUSTOMER, "   ")

    details = {}
    for reply in (no_chat, bad_thread, empty):
        await publish(amqp_url, cleanup_bus, reply)
        report, _ = await deliveries.next(DeliveryReported, timeout=10)
        details[report.reply_id] = (report.status, report.detail)

    assert details == {no_chat.reply_id: (DeliveryStatus.FAILED, "the recipient has no Telegram chat"),
                       bad_thread.reply_id: (DeliveryStatus.FAILED, "the recipient has no Telegram chat"),
                       empty.reply_id: (DeliveryStatus.FAILED, "the reply is empty")}
    assert fake_bot.sent == []


async def test_a_wrong_token_is_not_blamed_on_the_customer(service: None, fake_bot: FakeBotAPI, amqp_url: str,
                                                           cleanup_bus: str, bus_queues: Queues) -> None:
    fake_bot.fail_next("sendMessage", 401, "Unauthorized")
    reply = reply_to(CUSTOMER, "Ответ после смены токена")

    await publish(amqp_url, cleanup_bus, reply)
    report, _ = await (await bus_queues("tickets.deliveries")).next(DeliveryReported, timeout=10)

    assert report.status == DeliveryStatus.DELIVERED  # the bus retried it; no "failed" was reported first
    assert fake_bot.sent_texts() == [reply.body]


async def test_a_flood_limit_mid_reply_resumes_without_repeating_what_was_sent(
        service: None, fake_bot: FakeBotAPI, amqp_url: str, cleanup_bus: str, tmp_path: Path,
        bus_queues: Queues) -> None:
    key = await FileBlobStore(tmp_path / "blobs").put(b"%PDF-1.4 act")
    act = AttachmentRef(blob_key=key, filename="акт.pdf", content_type="application/pdf", size=12)
    fake_bot.fail_next("sendDocument", 429, "Too Many Requests: retry after 1", retry_after=1)
    reply = reply_to(CUSTOMER, "Акт выполненных работ во вложении.", [act])
    deliveries = await bus_queues("tickets.deliveries")

    await publish(amqp_url, cleanup_bus, reply)
    statuses = [(await deliveries.next(DeliveryReported, timeout=10))[0].status for _ in range(2)]

    assert statuses == [DeliveryStatus.RETRYING, DeliveryStatus.DELIVERED]
    assert [s["method"] for s in fake_bot.sent] == ["sendMessage", "sendDocument"]


async def test_a_sign_in_code_is_sent_to_the_private_chat_and_an_expired_one_dropped(
        service: None, fake_bot: FakeBotAPI, amqp_url: str, cleanup_bus: str) -> None:
    """The portal's sign-in code (signin.code.v1.telegram) goes out from the same bot, to the customer's chat;
    one that expired while it waited is not sent."""
    def code(body: str, expires_in: timedelta) -> SignInCode:
        attempt = uuid.uuid4()
        return SignInCode(correlation_id=attempt, channel="telegram", idempotency_key=f"signin:{attempt}",
                          recipient=Recipient(messenger=MessengerId(channel="telegram", user_id=str(CUSTOMER))),
                          subject="Код для входа", body=body, expires_at=utcnow() + expires_in)

    await publish(amqp_url, cleanup_bus, code("Ваш код для входа: 000111", timedelta(seconds=-1)))
    await publish(amqp_url, cleanup_bus, code("Ваш код для входа: 482913", timedelta(minutes=10)))
    await eventually(lambda: any(c["method"] == "sendMessage" for c in fake_bot.sent))
    (sent,) = [c for c in fake_bot.sent if c["method"] == "sendMessage"]
    assert int(sent["params"]["chat_id"]) == CUSTOMER and sent["params"]["text"] == "Ваш код для входа: 482913"
