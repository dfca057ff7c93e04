"""Two replicas of intake-messenger on one bot (issue 18): only the holder of the bot's lease long-polls,
the other stands by and reports so in /health; when the poller stops, the standby polls within 15 s.

Telegram answers a second concurrent ``getUpdates`` with 409 Conflict; the fake Bot API does the same and
counts it, so two pollers would show there. Run on SQLite (file locks next to the shared database file)
and on PostgreSQL (advisory locks).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from priyom_contracts import ContactReceived
from priyom_intake_messenger.app import build
from priyom_intake_messenger.store import migrate_database
from priyom_kit import build_app
from priyom_kit.adapters.testing import QueueReader
from priyom_testing.apps import started
from priyom_testing.telegram_bot_api import BOT_ID, FakeBotAPI

from .conftest import eventually, private_message, settings_for

Queues = Callable[[str], Awaitable[QueueReader]]
JOB = f"intake-messenger/telegram/{BOT_ID}"


async def role(client: httpx.AsyncClient) -> str:
    health = await client.get("/health")
    assert health.status_code == 200, health.text  # a standby is ready: it serves everything else
    return health.json()["jobs"][JOB]


async def test_one_replica_polls_and_the_other_takes_over(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues,
        database_url: str) -> None:
    await asyncio.to_thread(migrate_database, database_url)
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling",
                                  database_url=database_url)
    first, second = build_app(build(settings)), build_app(build(settings))
    async with contextlib.AsyncExitStack() as leader_stack:
        await leader_stack.enter_async_context(started(first))
        contacts = await bus_queues("identity.contacts")  # declared by the service's start
        one = await leader_stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://one.test"))
        await eventually(lambda: any(m == "getUpdates" for m, _ in fake_bot.calls))
        async with started(second), httpx.AsyncClient(transport=httpx.ASGITransport(app=second),
                                                      base_url="http://two.test") as two:
            assert await role(one) == "leader"
            assert await role(two) == "standby"
            before = await fake_bot.add_update(private_message(text="Первое сообщение"))
            event, _ = await contacts.next(ContactReceived, timeout=10)
            assert event.idempotency_key == f"tg:{BOT_ID}:{before['update_id']}"
            await asyncio.sleep(3.0)  # a few long polls (1 s each here): a second poller would cut them
            assert fake_bot.conflicts == 0
            assert await role(two) == "standby"

            await leader_stack.aclose()  # the leader stops: its lease is released
            loop = asyncio.get_running_loop()
            stopped_at = loop.time()
            while await role(two) != "leader":
                assert loop.time() - stopped_at < 15, "the standby did not take over"
                await asyncio.sleep(0.1)
            print(f"standby polled {loop.time() - stopped_at:.2f} s after the leader stopped")
            after = await fake_bot.add_update(private_message(text="Второе сообщение"))
            event, _ = await contacts.next(ContactReceived, timeout=10)
            assert event.idempotency_key == f"tg:{BOT_ID}:{after['update_id']}"
            await eventually(lambda: not fake_bot.pending())
    await contacts.assert_empty()  # each update became one contact
    assert fake_bot.conflicts == 0
