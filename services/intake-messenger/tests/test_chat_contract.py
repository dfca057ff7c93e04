"""The website chat passes the same adapter contract as Telegram and the JSON webhook: its recorded frames
normalise to their contacts, and a reply on the bus lands in the visitor's conversation, once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from priyom_contracts import MessengerId, Recipient
from priyom_intake_messenger.chat.adapter import ChatAdapter
from priyom_intake_messenger.chat.history import ChatHistory
from priyom_intake_messenger.chat.live import VisitorSockets
from priyom_intake_messenger.store import migrate_database
from priyom_kit.adapters.testing import AdapterContract
from priyom_kit.testing import migrated_database

from .conftest import SAMPLES


class TestChatAdapter(AdapterContract):
    samples_dir = SAMPLES / "chat"
    outbound_queue = "intake-messenger.outbound"

    @pytest.fixture
    async def adapter(self, tmp_path: Path) -> AsyncIterator[ChatAdapter]:
        async with migrated_database(
            f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}", migrate_database
        ) as database:
            yield ChatAdapter(ChatHistory(lambda: database.sessions), VisitorSockets())

    @pytest.fixture
    async def visitor(self, adapter: ChatAdapter) -> str:
        visitor, _ = await adapter.history.open_visit("shop", None)
        return visitor

    @pytest.fixture
    def recipient(self, visitor: str) -> Recipient:
        return Recipient(
            messenger=MessengerId(channel="chat", user_id=visitor), external_thread_id=f"chat:{visitor}"
        )

    @pytest.fixture
    def refusing_recipient(self) -> Recipient:
        # A visitor this service never saw (or one whose conversation expired or was erased).
        return Recipient(messenger=MessengerId(channel="chat", user_id="0" * 32))

    @pytest.fixture
    def read_delivered(self, adapter: ChatAdapter, visitor: str) -> Callable[[], Awaitable[list[str]]]:
        async def texts() -> list[str]:
            return [
                line.body for line in await adapter.history.latest(visitor, 1000) if line.direction == "out"
            ]

        return texts
