"""The JSON webhook channel passes the same adapter contract as Telegram."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from priyom_contracts import MessengerId, Recipient
from priyom_intake_messenger.jsonhook.adapter import JsonWebhookAdapter
from priyom_kit import HttpClient
from priyom_kit.adapters.testing import AdapterContract
from priyom_kit.blobs import FileBlobStore
from priyom_testing.json_webhook_peer import JsonWebhookPeer

from .conftest import PEER_SECRET, SAMPLES


class TestJsonWebhookAdapter(AdapterContract):
    samples_dir = SAMPLES / "webhook"
    outbound_queue = "intake-messenger.outbound"

    @pytest.fixture
    async def adapter(self, peer: JsonWebhookPeer, tmp_path: Path) -> AsyncIterator[JsonWebhookAdapter]:
        to_peer = HttpClient(timeout_s=15.0)
        await to_peer.open()
        yield JsonWebhookAdapter(PEER_SECRET, peer.url, FileBlobStore(tmp_path / "blobs"), to_peer)
        await to_peer.close()

    @pytest.fixture
    def recipient(self) -> Recipient:
        return Recipient(messenger=MessengerId(channel="webhook", user_id="79161234567"),
                         external_thread_id="conv-79161234567")

    @pytest.fixture
    def refusing_recipient(self, peer: JsonWebhookPeer) -> Recipient:
        peer.gone.add("u-gone")
        return Recipient(messenger=MessengerId(channel="webhook", user_id="u-gone"))

    @pytest.fixture
    def read_delivered(self, peer: JsonWebhookPeer) -> Callable[[], Awaitable[list[str]]]:
        async def texts() -> list[str]:
            return peer.texts()

        return texts
