"""The Telegram adapter passes the kit's adapter contract, against the fake Bot API and real RabbitMQ."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from priyom_contracts import MessengerId, Recipient
from priyom_intake_messenger.telegram.adapter import TelegramAdapter, make_bot
from priyom_kit.adapters.testing import AdapterContract
from priyom_kit.blobs import FileBlobStore
from priyom_testing.telegram_bot_api import FakeBotAPI

from .conftest import CUSTOMER, SAMPLES

BLOCKED = 6600000001


class TestTelegramAdapter(AdapterContract):
    samples_dir = SAMPLES / "telegram"
    outbound_queue = "intake-messenger.outbound"

    @pytest.fixture
    async def adapter(self, fake_bot: FakeBotAPI, tmp_path: Path) -> AsyncIterator[TelegramAdapter]:
        bot = make_bot(fake_bot.token, fake_bot.base_url)
        yield TelegramAdapter(bot, FileBlobStore(tmp_path / "blobs"))
        await bot.session.close()

    @pytest.fixture
    def recipient(self) -> Recipient:
        return Recipient(messenger=MessengerId(channel="telegram", user_id=str(CUSTOMER)))

    @pytest.fixture
    def refusing_recipient(self, fake_bot: FakeBotAPI) -> Recipient:
        fake_bot.blocked_chats.add(BLOCKED)
        return Recipient(external_thread_id=f"tg:{BLOCKED}")

    @pytest.fixture
    def read_delivered(self, fake_bot: FakeBotAPI) -> Callable[[], Awaitable[list[str]]]:
        async def texts() -> list[str]:
            return fake_bot.sent_texts()

        return texts
