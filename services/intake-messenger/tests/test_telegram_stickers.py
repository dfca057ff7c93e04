"""Stickers through the running service: polled from the fake Bot API, fetched with ``getFile`` and the file
download as from api.telegram.org, stored in their own format, their emoji in the contact's text; and the
size limits (ours, declared; Telegram's 20 MB, refused by ``getFile``) name the sticker instead of losing it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from priyom_contracts import ContactReceived
from priyom_intake_messenger.app import build
from priyom_kit import build_app
from priyom_kit.adapters.testing import QueueReader
from priyom_kit.blobs import FileBlobStore
from priyom_testing.apps import started
from priyom_testing.telegram_bot_api import BOT_ID, MAX_DOWNLOAD_BYTES, FakeBotAPI

from .conftest import eventually, private_message, settings_for

Queues = Callable[[str], Awaitable[QueueReader]]

#: The first bytes of each format, so a mix-up of files shows: WebP (RIFF), TGS (gzip), WebM (EBML).
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
TGS = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b'{"v":"5.5.2","fr":60}'
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"


async def test_each_sticker_is_downloaded_and_stored_in_its_own_format(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues) -> None:
    stickers = {
        "CAACAgIAAxkBAAIstatic": (fake_bot.add_sticker("CAACAgIAAxkBAAIstatic", WEBP, emoji="👍"),
                                  "Стикер: 👍", "webp", "image/webp", WEBP),
        "CAACAgIAAxkBAAIanimated": (fake_bot.add_sticker("CAACAgIAAxkBAAIanimated", TGS, emoji="😡",
                                                         is_animated=True),
                                    "Стикер: 😡", "tgs", "application/x-tgsticker", TGS),
        "CAACAgIAAxkBAAIvideo": (fake_bot.add_sticker("CAACAgIAAxkBAAIvideo", WEBM, emoji="🙏", is_video=True),
                                 "Стикер: 🙏", "webm", "video/webm", WEBM),
    }
    updates = {ref: await fake_bot.add_update(private_message(sticker=sticker))
               for ref, (sticker, *_) in stickers.items()}
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling")

    app = build_app(build(settings))
    async with started(app):
        queue = await bus_queues("identity.contacts")
        published = {}
        for _ in stickers:
            event, _ = await queue.next(ContactReceived, timeout=10)
            published[event.idempotency_key] = event.contact
        await eventually(lambda: not fake_bot.pending())

    blobs = FileBlobStore(tmp_path / "blobs")
    for ref, (_, body, extension, content_type, data) in stickers.items():
        update = updates[ref]
        contact = published[f"tg:{BOT_ID}:{update['update_id']}"]
        assert contact.body == body
        [attachment] = contact.attachments
        assert attachment.filename == f"sticker_{update['message']['message_id']}.{extension}"
        assert (attachment.content_type, attachment.size) == (content_type, len(data))
        assert await blobs.get(attachment.blob_key) == data  # byte for byte, as Telegram served it
        path = fake_bot.files[ref].file_path
        assert path.startswith("stickers/") and path.endswith(f".{extension}")  # the real getFile's paths
    assert sorted(p["file_id"] for m, p in fake_bot.calls if m == "getFile") == sorted(stickers)


async def test_a_sticker_over_a_limit_is_named_in_the_contact_not_lost(
        fake_bot: FakeBotAPI, cleanup_bus: str, amqp_url: str, tmp_path: Path, bus_queues: Queues) -> None:
    ours = fake_bot.add_sticker("CAACAgIAAxkBAAIbig", WEBM + bytes(4096), emoji="🎉", is_video=True)
    theirs = fake_bot.add_sticker("CAACAgIAAxkBAAIhuge", WEBP + bytes(MAX_DOWNLOAD_BYTES), emoji="🙂")
    del theirs["file_size"]  # not declared: only the Bot API can refuse it
    over_ours = await fake_bot.add_update(private_message(sticker=ours))
    over_theirs = await fake_bot.add_update(private_message(sticker=theirs))
    settings = await settings_for(fake_bot, cleanup_bus, amqp_url, tmp_path, TELEGRAM_MODE="polling",
                                  max_file_bytes=4096)

    app = build_app(build(settings))
    async with started(app):
        queue = await bus_queues("identity.contacts")
        published = {}
        for _ in range(2):
            event, _ = await queue.next(ContactReceived, timeout=10)
            published[event.idempotency_key] = event.contact
        await eventually(lambda: not fake_bot.pending())

    declared = published[f"tg:{BOT_ID}:{over_ours['update_id']}"]
    refused = published[f"tg:{BOT_ID}:{over_theirs['update_id']}"]
    name = f"sticker_{over_ours['message']['message_id']}.webm"
    assert declared.attachments == []
    assert declared.body == f"Стикер: 🎉\n\n[file not stored, {len(WEBM) + 4096} bytes is over the limit: {name}]"
    assert refused.attachments == []
    assert refused.body == ("Стикер: 🙂\n\n[file not available from the channel (Bad Request: file is too big): "
                            f"sticker_{over_theirs['message']['message_id']}.webp]")
    assert [p["file_id"] for m, p in fake_bot.calls if m == "getFile"] == ["CAACAgIAAxkBAAIhuge"]
