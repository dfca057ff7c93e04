"""Forgetting old records of delivered replies, so the journal does not grow for ever.

A delivered reply comes back only when its acknowledgement was lost, and then within the bus's retry
schedule: minutes. A record older than the retention (30 days by default) is never read again; the sweep
drops such records at start and then every few hours, in the background, never holding up a delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from priyom_kit import get_logger
from priyom_kit.adapters import SqlDeliveryJournal

log = get_logger("priyom.intake-messenger.journal")
EVERY_S = 6 * 3600.0


class JournalSweep:
    def __init__(self, journal: SqlDeliveryJournal, retention: timedelta, every_s: float = EVERY_S) -> None:
        self.journal = journal
        self.retention = retention
        self.every_s = every_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-journal-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sweep(self) -> int:
        """Drop the records older than the retention now; how many."""
        dropped = await self.journal.forget_before(datetime.now(UTC) - self.retention)
        if dropped:
            log.info("old delivery records dropped", dropped=dropped)
        return dropped

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # noqa: BLE001 - a failed sweep is retried at the next one
                log.warning("delivery journal sweep failed", error=type(exc).__name__)
            await asyncio.sleep(self.every_s)
