"""Forgetting old records of delivered replies, so the journal does not grow for ever.

A delivered reply comes back only when its acknowledgement was lost, and then within the bus's retry
schedule: minutes. A record older than the retention (30 days by default) is never read again; the sweep
drops such records at start and then every few hours, in the background, never holding up a delivery.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from priyom_kit import get_logger
from priyom_kit.adapters import SqlDeliveryJournal
from priyom_kit.periodic import Periodic

log = get_logger("priyom.intake-messenger.journal")
EVERY_S = 6 * 3600.0


class JournalSweep:
    def __init__(self, journal: SqlDeliveryJournal, retention: timedelta, every_s: float = EVERY_S) -> None:
        self.journal = journal
        self.retention = retention
        self.every_s = every_s
        self._loop = Periodic("delivery-journal-sweep", self.sweep, every_s=every_s)

    async def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def sweep(self) -> int:
        """Drop the records older than the retention now; how many."""
        dropped = await self.journal.forget_before(datetime.now(UTC) - self.retention)
        if dropped:
            log.info("old delivery records dropped", dropped=dropped)
        return dropped
