"""The Telegram channel on the adapter kit: updates normalised by :mod:`.mapping`, replies sent with aiogram.

aiogram is used as the Bot API client (typed methods, the real error classes, file download); receiving
is ours (:mod:`.receiver`), because an update may be confirmed only after its contact is published.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates
from aiogram.types import BufferedInputFile

from priyom_contracts import OutboundReply, Recipient
from priyom_kit import get_logger
from priyom_kit.adapters import ChannelAdapter, Delivered, DeliveryError, FileRef, FileUnavailable, Inbound
from priyom_kit.blobs import BlobStore

from . import mapping
from .conversation import survey_keyboard

log = get_logger("priyom.intake-messenger.telegram")
#: Text and caption limits of the Bot API.
MAX_TEXT = 4096
MAX_CAPTION = 1024


class RawGetUpdates(GetUpdates):
    """``getUpdates`` returning the raw JSON of each update: one update aiogram's models reject (an older or
    newer shape) must not stop polling, and the mapping reads raw JSON anyway."""

    __returning__ = list[dict[str, Any]]


class TelegramUnavailable(Exception):
    """The Bot API failed in a way worth trying again (a 5xx on a file download)."""


def make_bot(token: str, api_base: str) -> Bot:
    """An aiogram Bot on ``api_base`` (the real Bot API, a self-hosted server or a test fake)."""
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))


class TelegramAdapter(ChannelAdapter):
    """``webhook_url`` and ``webhook_secret``: in webhook mode, where Telegram is told to send updates, once
    the bus is up (:meth:`after_start`); without a URL the webhook is registered by hand."""

    channel = mapping.CHANNEL

    def __init__(self, bot: Bot, blobs: BlobStore, *, webhook_url: str | None = None,
                 webhook_secret: str | None = None) -> None:
        self.bot = bot
        self.blobs = blobs
        self.bot_id = bot.id
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self._sent_parts: dict[uuid.UUID, list[int]] = {}

    async def after_start(self) -> None:
        if self.webhook_secret is None:
            return  # polling: the receiver deletes any webhook itself
        if self.webhook_url:
            # Pending updates are kept: Telegram re-sends the backlog to the new webhook, and each one can be
            # published now that the bus is up.
            await self.bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret,
                                       allowed_updates=mapping.ALLOWED_UPDATES, drop_pending_updates=False)
        info = await self.bot.get_webhook_info()
        log.info("telegram webhook", registered=bool(info.url), pending_updates=info.pending_update_count)

    def normalise(self, raw: Mapping[str, Any]) -> list[Inbound]:
        item = mapping.read_update(raw, self.bot_id)
        return [item] if isinstance(item, Inbound) else []

    async def fetch(self, file: FileRef) -> bytes:
        try:
            info = await self.bot.get_file(file.ref)
        except TelegramBadRequest as exc:  # "wrong file_id or the file is temporarily unavailable"
            raise FileUnavailable(exc.message) from exc
        if not info.file_path:
            raise FileUnavailable("the Bot API gave no file_path")
        buffer = io.BytesIO()
        try:
            await self.bot.download_file(info.file_path, destination=buffer)
        except aiohttp.ClientResponseError as exc:
            # Its text holds the download URL, which holds the bot token: keep only the status.
            if 400 <= exc.status < 500:
                raise FileUnavailable(f"download answered {exc.status}") from None
            raise TelegramUnavailable(f"download answered {exc.status}") from None
        return buffer.getvalue()

    async def deliver(self, reply: OutboundReply) -> Delivered:
        chat_id = chat_of(reply.recipient)
        if chat_id is None:
            raise DeliveryError("the recipient has no Telegram chat", permanent=True)
        if not reply.body.strip() and not reply.attachments:
            raise DeliveryError("the reply is empty", permanent=True)
        # A reply is several messages; after a flood limit mid-way, the retry resumes after the last one sent.
        sent_ids = self._sent_parts.setdefault(reply.reply_id, [])
        chunks = _chunks(reply.body, MAX_TEXT)
        try:
            for i, chunk in enumerate(chunks[len(sent_ids):], start=len(sent_ids)):
                survey = reply.survey and i == len(chunks) - 1  # the buttons under the last part
                markup = survey_keyboard(str(reply.ticket_number)) if survey else None
                sent_ids.append((await self.bot.send_message(chat_id, chunk, reply_markup=markup)).message_id)
            for attachment in reply.attachments[len(sent_ids) - len(chunks):]:
                data = await self.blobs.get(attachment.blob_key)
                document = BufferedInputFile(data, attachment.filename)
                sent_ids.append((await self.bot.send_document(chat_id, document)).message_id)
        except TelegramRetryAfter as exc:
            raise DeliveryError(f"Telegram flood limit: {exc.message}", retry_after=exc.retry_after) from exc
        except (TelegramForbiddenError, TelegramBadRequest, TelegramNotFound) as exc:
            self._sent_parts.pop(reply.reply_id, None)
            raise DeliveryError(f"Telegram refused: {exc.message}", permanent=True) from exc
        except (TelegramNetworkError, TelegramServerError, TelegramUnauthorizedError) as exc:
            # Unauthorized is our token, not the customer: retried, then dead-lettered for a replay once fixed.
            raise DeliveryError(f"Telegram unavailable: {exc.message}") from exc
        del self._sent_parts[reply.reply_id]
        return Delivered(f"tg:{chat_id}:{sent_ids[0]}")


def chat_of(recipient: Recipient) -> int | None:
    """The private chat of a customer: their Telegram user id, or the thread id ``tg:<chat_id>``."""
    if recipient.external_thread_id and recipient.external_thread_id.startswith("tg:"):
        chat = recipient.external_thread_id.split(":")[1]
    elif recipient.messenger and recipient.messenger.channel == mapping.CHANNEL:
        chat = recipient.messenger.user_id
    else:
        return None
    return int(chat) if chat.lstrip("-").isdigit() else None


def _chunks(text: str, size: int) -> list[str]:
    """Split a long reply at line breaks where possible, so no part exceeds the Bot API's limit."""
    parts: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else size
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*parts, text] if text else parts
