"""The website chat's WebSocket in the running service, on uvicorn and the real RabbitMQ: the origin check on
the handshake, contacts acknowledged only once published (a resend is the same contact), follow-ups on one
thread, replies live and kept for a returning visitor, the rotated token, the limits, and the offline mode."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from priyom_contracts import (
    AttachmentRef,
    ContactReceived,
    DeliveryReported,
    DeliveryStatus,
    MessengerId,
    OutboundReply,
    Recipient,
)
from priyom_intake_messenger.app import build
from priyom_intake_messenger.settings import IntakeMessengerSettings
from priyom_kit import build_app
from priyom_kit.adapters.testing import QueueReader
from priyom_kit.blobs import FileBlobStore
from priyom_testing.browser import served

from .conftest import migrated_sqlite, publish

Queues = Callable[[str], Awaitable[QueueReader]]
ORIGIN = "https://shop.example.ru"
PROFILE = {"type": "profile", "name": "Ольга Смирнова", "email": "olga.smirnova@example.ru", "consent": True}


class Chat:
    """The service on a real port, and a way to open visitor sockets to it."""

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url = url
        self.http = http

    @asynccontextmanager
    async def visitor(
        self, token: str | None = None, *, origin: str | None = ORIGIN, site: str = "shop"
    ) -> AsyncIterator[tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]]:
        """A socket that said hello, and the welcome it got."""
        headers = {"Origin": origin} if origin else {}
        async with self.http.ws_connect(
            f"{self.url.replace('http', 'ws', 1)}/chat/ws?site={site}", headers=headers
        ) as socket:
            await socket.send_json({"type": "hello", "token": token, "lang": "ru"})
            welcome = await socket.receive_json(timeout=10)
            assert welcome["type"] == "welcome"
            yield socket, welcome


async def start_chat(cleanup_bus: str, amqp_url: str, tmp_path: Path, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "AMQP_URL": amqp_url,
        "PRIYOM_BUS_PREFIX": cleanup_bus,
        "PRIYOM_BLOB_DIR": tmp_path / "blobs",
        "PRIYOM_RETRY_DELAY_MS": 50,
        "database_url": await migrated_sqlite(tmp_path),
        "chat_sites": {"shop": [ORIGIN]},
        "chat_demo_site": "shop",
    }
    values.update(overrides)
    return served(build_app(build(IntakeMessengerSettings(**values))))


@pytest.fixture
async def chat(cleanup_bus: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[Chat]:
    async with await start_chat(cleanup_bus, amqp_url, tmp_path) as url, aiohttp.ClientSession() as http:
        yield Chat(url, http)


def message(text: str, message_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "id": message_id or uuid.uuid4().hex, "text": text, **extra}


async def say(socket: aiohttp.ClientWebSocketResponse, frame: dict[str, Any]) -> dict[str, Any]:
    """Send a frame and read the server's answer to it."""
    await socket.send_json(frame)
    return await socket.receive_json(timeout=10)


async def test_the_handshake_needs_an_origin_the_site_key_allows(chat: Chat) -> None:
    for origin, site in (
        ("https://evil.example", "shop"),
        (None, "shop"),
        (ORIGIN, "other"),
        ("null", "shop"),
    ):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with chat.visitor(origin=origin, site=site):
                pass
        assert refused.value.status == 403, (origin, site)
    async with chat.visitor() as (_, welcome):
        assert welcome["online"] is True and welcome["history"] == []


async def test_messages_become_contacts_on_one_thread_and_a_resend_is_the_same_contact(
    chat: Chat, bus_queues: Queues
) -> None:
    contacts = await bus_queues("identity.contacts")
    async with chat.visitor() as (socket, welcome):
        await socket.send_json(PROFILE)
        first = message("Не проходит оплата картой")
        assert await say(socket, first) == {"type": "ack", "id": first["id"]}
        event, amqp = await contacts.next(ContactReceived)
        visitor = event.contact.sender.messenger.user_id if event.contact.sender.messenger else ""
        assert (
            event.channel == "chat" and amqp.headers["x-idempotency-key"] == f"chat:{visitor}:{first['id']}"
        )
        assert (event.contact.sender.name, event.contact.sender.email) == (
            "Ольга Смирнова",
            "olga.smirnova@example.ru",
        )
        assert event.contact.thread.external_thread_id == f"chat:{visitor}"

        # The ack was lost, say: the widget sends the same frame again. Acknowledged, not published again.
        assert await say(socket, first) == {"type": "ack", "id": first["id"]}
        await contacts.assert_empty()

        follow_up = message("Ошибка «Платёж отклонён»")
        assert (await say(socket, follow_up))["type"] == "ack"
        second, _ = await contacts.next(ContactReceived)
    assert second.contact.thread.external_thread_id == f"chat:{visitor}"
    assert second.contact.contact_id != event.contact.contact_id
    assert second.contact.body == "Ошибка «Платёж отклонён»"
    assert welcome["token"]


async def test_a_reply_reaches_the_visitor_live_and_waits_for_them_when_they_return(
    chat: Chat, bus_queues: Queues, amqp_url: str, cleanup_bus: str, tmp_path: Path
) -> None:
    invoice = b"%PDF-1.4 invoice"
    key = await FileBlobStore(tmp_path / "blobs").put(
        invoice
    )  # the service's blob store, as tickets stored it
    contacts, deliveries = await bus_queues("identity.contacts"), await bus_queues("tickets.deliveries")
    async with chat.visitor() as (socket, welcome):
        await socket.send_json(PROFILE)
        sent = message("Когда приедет курьер?")
        assert (await say(socket, sent))["type"] == "ack"
        event, _ = await contacts.next(ContactReceived)
        assert event.contact.sender.messenger is not None
        visitor = event.contact.sender.messenger.user_id
        reply_id = uuid.uuid4()
        await publish(
            amqp_url,
            cleanup_bus,
            OutboundReply(
                correlation_id=event.contact.contact_id,
                channel="chat",
                idempotency_key=str(reply_id),
                ticket_number="2026-000321",
                reply_id=reply_id,
                body="Курьер будет завтра с 10 до 14",
                attachments=[AttachmentRef(blob_key=key, filename="счёт.pdf", size=len(invoice))],
                recipient=Recipient(
                    messenger=MessengerId(channel="chat", user_id=visitor),
                    external_thread_id=f"chat:{visitor}",
                ),
            ),
        )
        live = await socket.receive_json(timeout=10)
        report, _ = await deliveries.next(DeliveryReported, timeout=10)
    assert (live["type"], live["id"], live["text"], live["ticket"]) == (
        "reply",
        str(reply_id),
        "Курьер будет завтра с 10 до 14",
        "2026-000321",
    )
    assert (report.status, report.external_message_id) == (DeliveryStatus.DELIVERED, f"chat:{reply_id}")
    # The answer's file, by the answer's id: a download of unknown type, never rendered here.
    assert live["files"] == ["счёт.pdf"]
    async with httpx.AsyncClient(base_url=chat.url) as http:
        download = await http.get(f"/chat/files/{reply_id}/0")
        missing = [
            (await http.get(path)).status_code
            for path in (f"/chat/files/{reply_id}/1", f"/chat/files/{uuid.uuid4()}/0")
        ]
    assert (download.status_code, download.content) == (200, invoice)
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert missing == [404, 404]

    # The next page load: the same visitor by the token, the conversation so far, and a new token.
    async with chat.visitor(welcome["token"]) as (_, again):
        assert [(line["from"], line["text"]) for line in again["history"]] == [
            ("visitor", "Когда приедет курьер?"),
            ("agent", "Курьер будет завтра с 10 до 14"),
        ]
        assert again["token"] != welcome["token"]
    # The token before the last rotation still opens the conversation (a page closed before saving the new
    # one); one never issued opens a new, empty one.
    async with chat.visitor(welcome["token"]) as (_, previous):
        assert len(previous["history"]) == 2
    async with chat.visitor("not-a-token-anyone-was-given") as (_, stranger):
        assert stranger["history"] == []


async def test_limits_refuse_with_a_reason_and_keep_the_socket(
    cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues
) -> None:
    server = await start_chat(
        cleanup_bus,
        amqp_url,
        tmp_path,
        chat_rate_per_visitor="2/minute",
        chat_max_text=200,
        chat_max_file_bytes=1024,
        chat_max_files=1,
    )
    async with server as url, aiohttp.ClientSession() as http:
        contacts = await bus_queues("identity.contacts")
        async with Chat(url, http).visitor() as (socket, welcome):
            assert welcome["limits"] == {"text": 200, "files": 1, "file_bytes": 1024}
            too_long = await say(socket, message("я" * 201))
            big = {
                "name": "скан.pdf",
                "type": "application/pdf",
                "data": base64.b64encode(b"%" * 1025).decode(),
            }
            too_big = await say(socket, message("скан", files=[big]))
            invalid = await say(socket, {"type": "message", "id": "short", "text": "x"})
            assert [(a["type"], a["reason"]) for a in (too_long, too_big, invalid)] == [
                ("refused", "too_long"),
                ("refused", "file_too_large"),
                ("refused", "invalid"),
            ]
            small = {"name": "чек.txt", "type": "text/plain", "data": base64.b64encode(b"check").decode()}
            assert (await say(socket, message("раз", files=[small])))["type"] == "ack"
            assert (await say(socket, message("два")))["type"] == "ack"
            limited = await say(socket, message("три"))
            assert (limited["reason"], limited["retry_after"] >= 1) == ("rate_limited", True)
            assert (await say(socket, {"type": "ping"})) == {"type": "pong"}
    first, _ = await contacts.next(ContactReceived)
    assert [(a.filename, a.size) for a in first.contact.attachments] == [("чек.txt", 5)]
    await contacts.next(ContactReceived)
    await contacts.assert_empty()


async def test_with_no_agent_online_a_visitor_who_left_an_e_mail_is_answered_by_e_mail(
    cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues, capfd: pytest.CaptureFixture[str]
) -> None:
    server = await start_chat(cleanup_bus, amqp_url, tmp_path, chat_agents_online=False)
    async with server as url, aiohttp.ClientSession() as http, Chat(url, http).visitor() as (socket, welcome):
        contacts = await bus_queues("identity.contacts")
        assert welcome["online"] is False
        await socket.send_json(PROFILE)
        assert (await say(socket, message("Ответьте на почту, пожалуйста")))["type"] == "ack"
        event, _ = await contacts.next(ContactReceived)
    # No chat id: tickets' reply path finds no way back in the chat and answers the e-mail (test_reply_paths).
    assert (event.contact.sender.messenger, event.contact.sender.email) == (None, "olga.smirnova@example.ru")
    out, err = capfd.readouterr()
    logged = out + err
    assert "chat visit" in logged and "contact published" in logged
    assert "olga.smirnova" not in logged and "Ответьте" not in logged


async def test_the_widget_and_the_demo_page_are_served(chat: Chat) -> None:
    async with httpx.AsyncClient(base_url=chat.url) as http:
        script, style, demo = (
            await http.get("/chat/widget.js"),
            await http.get("/chat/widget.css"),
            await http.get("/chat/demo"),
        )
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "dataset.siteKey" in script.text
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert '<script src="/chat/widget.js" data-site-key="shop" defer></script>' in demo.text
    assert "script-src 'self'" in demo.headers["content-security-policy"]


async def test_answers_delivered_by_another_process_are_shown_live(
    cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues
) -> None:
    """Two processes on one bus and one database: the visitor is connected to the first, the answers are
    delivered by whichever process takes them from the outbound queue, and every one is shown live."""
    first = await start_chat(cleanup_bus, amqp_url, tmp_path)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'intake-messenger.db'}"
    second = served(
        build_app(
            build(
                IntakeMessengerSettings(
                    AMQP_URL=amqp_url,
                    PRIYOM_BUS_PREFIX=cleanup_bus,
                    PRIYOM_BLOB_DIR=tmp_path / "blobs",
                    database_url=database_url,
                    chat_sites={"shop": [ORIGIN]},
                )
            )
        )
    )
    async with first as url, second as other_url, aiohttp.ClientSession() as http:
        contacts = await bus_queues("identity.contacts")
        async with Chat(url, http).visitor() as (socket, _):
            assert (await say(socket, message("Где мой заказ?")))["type"] == "ack"
            event, _ = await contacts.next(ContactReceived)
            assert event.contact.sender.messenger is not None
            visitor = event.contact.sender.messenger.user_id
            replies = [uuid.uuid4() for _ in range(6)]
            for reply_id in replies:
                await publish(
                    amqp_url,
                    cleanup_bus,
                    OutboundReply(
                        correlation_id=event.contact.contact_id,
                        channel="chat",
                        idempotency_key=str(reply_id),
                        ticket_number="2026-000322",
                        reply_id=reply_id,
                        body=f"Ответ {reply_id}",
                        recipient=Recipient(messenger=MessengerId(channel="chat", user_id=visitor)),
                    ),
                )
            shown: set[str] = set()
            while shown != {str(r) for r in replies}:
                frame = await socket.receive_json(timeout=10)
                assert frame["type"] == "reply"
                shown.add(frame["id"])
        async with httpx.AsyncClient(base_url=other_url) as other:
            metrics = (await other.get("/metrics")).text
    delivered_there = [
        line
        for line in metrics.splitlines()
        if line.startswith("priyom_channel_replies_total{") and 'status="delivered"' in line
    ]
    assert delivered_there and float(delivered_there[0].rsplit(" ", 1)[1]) > 0, (
        "the other process delivered some"
    )
