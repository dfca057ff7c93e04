"""Fixtures: the fake Bot API and the JSON webhook peer (``priyom_testing``)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from priyom_contracts import Event, Topology
from priyom_intake_messenger.settings import IntakeMessengerSettings
from priyom_intake_messenger.store import migrate_database
from priyom_kit.adapters.testing import QueueReader
from priyom_kit.adapters.testing import bus_queues as queues_of
from priyom_testing.json_webhook_peer import JsonWebhookPeer
from priyom_testing.telegram_bot_api import FakeBotAPI

SAMPLES = Path(__file__).parent / "samples"
CUSTOMER = 5512345678
PEER_SECRET = b"peer-shared-secret-for-tests"


@pytest.fixture
async def fake_bot() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def peer() -> AsyncIterator[JsonWebhookPeer]:
    async with JsonWebhookPeer(PEER_SECRET) as running:
        yield running


def private_message(update_extra: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
    """A customer's message update in the current Bot API shape (the fake renumbers ``update_id``)."""
    chat = {"id": CUSTOMER, "first_name": "Ольга", "last_name": "Смирнова", "username": "olga_smirnova",
            "type": "private"}
    user = {"id": CUSTOMER, "is_bot": False, "first_name": "Ольга", "last_name": "Смирнова",
            "username": "olga_smirnova", "language_code": "ru"}
    message = {"message_id": next(_message_ids), "from": user, "chat": chat, "date": 1764064800, **content}
    return {"update_id": next(_message_ids), "message": message, **(update_extra or {})}


def photo(file_id: str, size: int) -> list[dict[str, Any]]:
    return [{"file_id": f"{file_id}-thumb", "file_unique_id": f"{file_id[:8]}t", "file_size": 900, "width": 90,
             "height": 60},
            {"file_id": file_id, "file_unique_id": f"{file_id[:8]}l", "file_size": size, "width": 1280,
             "height": 853}]


_message_ids = itertools.count(300)


async def migrated_sqlite(tmp_path: Path) -> str:
    """The service's database (the delivery journal) as a migrated SQLite file in ``tmp_path``."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake-messenger.db'}"
    await asyncio.to_thread(migrate_database, url)  # Alembic's env runs its own event loop
    return url


async def settings_for(fake: FakeBotAPI, bus_prefix: str, amqp_url: str, tmp_path: Path,
                       **overrides: Any) -> IntakeMessengerSettings:
    values: dict[str, Any] = {
        "AMQP_URL": amqp_url, "PRIYOM_BUS_PREFIX": bus_prefix, "PRIYOM_BLOB_DIR": tmp_path / "blobs",
        "database_url": await migrated_sqlite(tmp_path),
        "PRIYOM_RETRY_DELAY_MS": 50, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE": fake.base_url,
        "telegram_poll_timeout_s": 1, "telegram_album_wait_ms": 300, "max_request_bytes": 64 * 1024,
    }
    values.update(overrides)
    return IntakeMessengerSettings(**values)


@pytest.fixture
async def bus_queues(amqp_url: str, cleanup_bus: str) -> AsyncIterator[Callable[[str], Awaitable[QueueReader]]]:
    """``await bus_queues("identity.contacts")``: a reader of one queue of this test's topology."""
    async with queues_of(amqp_url, cleanup_bus) as reader:
        yield reader


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds (a background loop's effect), failing after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def publish(amqp_url: str, prefix: str, event: Event) -> None:
    """Publish as another service would (tickets, for a reply): to the bus exchange, confirmed."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(prefix).exchange)
        await exchange.publish(aio_pika.Message(event.model_dump_json().encode(), content_type="application/json",
                                                headers={"x-idempotency-key": event.idempotency_key}),
                               routing_key=event.routing_key, mandatory=True)
