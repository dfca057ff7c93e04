"""Fixtures: the fake Bot API and the JSON webhook peer (``tests/fakes`` at the repository root)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # the shared fakes live in the repository's top-level tests package
    sys.path.insert(0, str(ROOT))

from tests.fakes.json_webhook_peer import JsonWebhookPeer  # noqa: E402
from tests.fakes.telegram_bot_api import FakeBotAPI  # noqa: E402

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
