"""Every real update of ``../shared/corpus/telegram`` fed to the running service through the fake Bot API's
``getUpdates``: each is confirmed, each contact is published once with its files fetched and stored, presses
are answered, and nothing else reaches the bus."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from priyom_contracts import ContactReceived, Topology
from priyom_intake_messenger.app import build
from priyom_intake_messenger.telegram import mapping
from priyom_kit import build_app
from priyom_kit.adapters import Inbound
from priyom_kit.adapters.testing import QueueReader
from priyom_kit.blobs import FileBlobStore
from priyom_kit.testing import dead_letter_tap
from priyom_testing.apps import started
from priyom_testing.telegram_bot_api import BOT_ID, FakeBotAPI

from .conftest import eventually, settings_for

Queues = Callable[[str], Awaitable[QueueReader]]


def corpus_updates(corpus_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every recorded update (the files with an ``update_id``; API responses and bare messages are not)."""
    found = []
    for path in sorted((corpus_dir / "telegram").rglob("*.json")):
        data = json.loads(path.read_bytes())
        if isinstance(data, dict) and "update_id" in data:
            found.append((str(path.relative_to(corpus_dir)), data))
    return found


async def test_every_corpus_update_through_polling(fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str,
                                                   tmp_path: Path, bus_queues: Queues, corpus_dir: Path) -> None:
    recorded = corpus_updates(corpus_dir)
    assert len(recorded) >= 40, "the corpus holds about fifty updates"
    fed = [await fake_bot.add_update(update) for _, update in recorded]  # renumbered: ids repeat in the corpus
    expected: dict[str, Inbound] = {}
    presses = 0
    for update in fed:
        item = mapping.read_update(update, BOT_ID)
        if isinstance(item, Inbound):
            expected.setdefault(item.idempotency_key, item)
            for file in item.files:
                fake_bot.add_file(file.ref, f"bytes of {file.ref}".encode(), f"files/{file.ref[-16:]}.bin")
        presses += isinstance(item, mapping.ButtonPress)
    assert len(expected) >= 15, "most recorded updates are customers' messages"
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling")

    app = build_app(build(settings))
    async with started(app):
        contacts = await bus_queues("identity.contacts")
        published: dict[str, ContactReceived] = {}
        for _ in expected:
            event, _ = await contacts.next(ContactReceived, timeout=15)
            assert event.idempotency_key not in published, "a contact published twice"
            published[event.idempotency_key] = event
        await eventually(lambda: not fake_bot.pending(), timeout=15)
        await contacts.assert_empty()
        async with dead_letter_tap(amqp_url, Topology(cleanup_bus).prefix) as dead:
            await dead.assert_empty()

    assert published.keys() == expected.keys()
    blobs = FileBlobStore(tmp_path / "blobs")
    for key, inbound in expected.items():
        contact = published[key].contact
        assert contact.contact_id == inbound.contact_id
        assert contact.sender.messenger is not None and contact.sender.messenger.channel == "telegram"
        stored = contact.attachments
        assert len(stored) == len(inbound.files), key
        for attachment, file in zip(stored, inbound.files, strict=True):
            assert await blobs.get(attachment.blob_key) == f"bytes of {file.ref}".encode()
    answered = [m for m, _ in fake_bot.calls if m == "answerCallbackQuery"]
    assert len(answered) == presses
