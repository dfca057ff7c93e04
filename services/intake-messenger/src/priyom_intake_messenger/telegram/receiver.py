"""Receiving updates: long polling or webhook, both confirming an update only after its effect is done.

:meth:`UpdateReceiver.handle` returns once an update's contact is published with a broker confirm (or its
greeting sent); any failure raises. Polling moves the ``getUpdates`` offset past an update only then, and the
webhook answers 200 only then, so a crash or a broker outage loses nothing: Telegram keeps or re-sends it.
Polling starts from the backlog Telegram kept (``deleteWebhook`` without dropping pending updates), which is
how a deployment behind NAT, or one switching from webhook to polling, replays what arrived meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from prometheus_client import CollectorRegistry, Counter

from priyom_kit import get_logger
from priyom_kit.adapters import Inbound

from . import conversation, mapping
from .adapter import RawGetUpdates
from .album_parts import AlbumParts
from .albums import AlbumCollector

log = get_logger("priyom.intake-messenger.telegram")

DeadLetter = Callable[..., Awaitable[None]]
ALLOWED_UPDATES = mapping.ALLOWED_UPDATES


class UpdateReceiver:
    def __init__(self, bot: Bot, accept: Callable[[Inbound], Awaitable[object]], dead_letter: DeadLetter, *,
                 album_wait_s: float, album_parts: AlbumParts,
                 registry: CollectorRegistry, poll_timeout_s: int = 25, stale_after_s: float | None = None) -> None:
        self.bot = bot
        self._updates = Counter("priyom_telegram_updates_total", "Bot API updates handled, by what they were",
                                ["kind"], registry=registry)
        self._poll_failures = Counter("priyom_telegram_poll_failures_total", "getUpdates calls that failed",
                                      registry=registry)
        self.accept = accept
        self.dead_letter = dead_letter
        #: Polling is unhealthy when no getUpdates call has succeeded for this long.
        self.stale_after_s = stale_after_s if stale_after_s is not None else 2 * poll_timeout_s + 10
        self._last_poll_ok: float | None = None
        self._poll_started: float | None = None
        self.albums = AlbumCollector(accept, album_wait_s, album_parts.contacts)
        self.poll_timeout_s = poll_timeout_s
        self._task: asyncio.Task[None] | None = None

    async def handle(self, update: Mapping[str, Any]) -> None:
        """Do what one update means; returns only when it is safe to confirm it to Telegram."""
        try:
            item = mapping.read_update(update, self.bot.id)
        except (KeyError, TypeError, ValueError) as exc:
            # A shape we cannot read can never succeed, and holding it back would stop every later update:
            # it is kept whole in the dead-letter queue, then confirmed.
            await self.dead_letter(json.dumps(update, ensure_ascii=False).encode(),
                                   f"unreadable Bot API update {update.get('update_id')}: {type(exc).__name__} {exc}",
                                   source="telegram")
            self._updates.labels("dead_lettered").inc()
            return
        if isinstance(item, Inbound):
            await (self.albums.add(item) if item.group else self.accept(item))
            self._updates.labels("album_part" if item.group else "contact").inc()
            return
        self._updates.labels(type(item).__name__.lower() if item is not None else "ignored").inc()
        try:
            if isinstance(item, mapping.Command):
                await conversation.on_command(self.bot, item)
            elif isinstance(item, mapping.ButtonPress):
                await conversation.on_button(self.bot, item, accept=self.accept, update_id=update["update_id"])
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            # The customer blocked the bot or the button expired: nothing to retry.
            log.warning("interaction not answered", update_id=update.get("update_id"), error=exc.message)

    # -- long polling ---------------------------------------------------------------------------------

    async def start_polling(self, ready: Callable[[], Awaitable[bool]]) -> None:
        """Poll in the background once ``ready()`` (the bus is connected: nothing can be published before)."""
        self._task = asyncio.create_task(self.poll(ready), name="telegram-polling")

    async def poll(self, ready: Callable[[], Awaitable[bool]]) -> None:
        """Poll until cancelled, once ``ready()``: the job a replica runs while it holds the bot's lease (only
        one ``getUpdates`` per bot at a time, or Telegram answers 409 Conflict)."""
        self._poll_started = asyncio.get_running_loop().time()
        self._last_poll_ok = None
        try:
            await self._poll(ready)
        finally:
            self._poll_started = None

    async def polling_healthy(self) -> bool:
        """The /health check of polling mode: getUpdates answered recently (or polling just started)."""
        if self._poll_started is None:
            return False
        last = self._last_poll_ok or self._poll_started
        return asyncio.get_running_loop().time() - last < self.stale_after_s

    async def stop_polling(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _poll(self, ready: Callable[[], Awaitable[bool]]) -> None:
        while not await _safe(ready):  # noqa: ASYNC110 - the bus has no "connected" event to wait on
            await asyncio.sleep(0.2)
        offset: int | None = None
        webhook_deleted = False
        failures = 0
        while True:
            if failures:
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))
            try:
                if not webhook_deleted:
                    # Without dropping pending updates: what arrived while no one listened is the first batch.
                    webhook_deleted = await self.bot.delete_webhook(drop_pending_updates=False)
                updates = await self.bot(RawGetUpdates(offset=offset, timeout=self.poll_timeout_s,
                                                       allowed_updates=ALLOWED_UPDATES))
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
                continue
            except Exception as exc:  # noqa: BLE001 - polling must outlive any failure; /health reports it
                failures += 1
                self._poll_failures.inc()
                log.warning("getUpdates failed", error=getattr(exc, "message", type(exc).__name__),
                            failures=failures)
                continue
            self._last_poll_ok = asyncio.get_running_loop().time()
            next_offset = await self.handle_batch(updates)
            offset = next_offset if next_offset is not None else offset
            complete = not updates or next_offset == updates[-1]["update_id"] + 1
            failures = 0 if complete else failures + 1

    async def handle_batch(self, updates: list[dict[str, Any]]) -> int | None:
        """Handle one ``getUpdates`` batch; the offset that confirms exactly the updates done.

        Updates are handled together (album parts wait for each other); the offset stops at the first
        failure, so it and everything after it come again (the idempotency key makes repeats harmless).
        """
        if not updates:
            return None
        results = await asyncio.gather(*(self.handle(u) for u in updates), return_exceptions=True)
        offset = updates[0]["update_id"]
        for update, result in zip(updates, results, strict=True):
            if isinstance(result, BaseException):
                # The type only: a message could quote the customer's text.
                log.warning("update not confirmed", update_id=update["update_id"], error=type(result).__name__)
                break
            offset = update["update_id"] + 1
        return offset


async def _safe(check: Callable[[], Awaitable[bool]]) -> bool:
    try:
        return await check()
    except Exception:  # noqa: BLE001 - not ready yet
        return False
