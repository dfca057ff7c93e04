"""Forgetting the keys of old ingested IMAP mail, so ``imap_ingested`` does not keep one row per mail for ever.

The keys exist to recognise mail already published when a mailbox comes back with a new UIDVALIDITY (a
recreated or migrated mailbox). Past the retention (``INTAKE_EMAIL_IMAP_INGESTED_RETENTION_DAYS``, 180 days by
default) that protection ends: such a mailbox would publish its older mail again, and tickets' inbox, which
drops a contact whose idempotency key it already saw, is what stops a second ticket. The sweep runs at start and
then hourly in the background, in small batches, never holding up a mailbox.

The kit has no shared periodic helper; the other services' sweeps (tickets' scheduler, router's queue sweep,
intake-messenger's journal sweep) are each bound to their own store, so this one is as small as theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from priyom_kit.logging import get_logger

from .store import Checkpoints

log = get_logger("priyom.intake-email.ingested")
EVERY_S = 3600.0


class IngestedSweep:
    """Runs :meth:`sweep` at start and every ``every_s`` seconds until stopped."""

    def __init__(self, checkpoints: Checkpoints, retention: timedelta, *, every_s: float = EVERY_S,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.checkpoints = checkpoints
        self.retention = retention
        self.every_s = every_s
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="imap-ingested-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def sweep(self) -> int:
        """Drop the keys older than the retention now; how many."""
        dropped = await self.checkpoints.forget_ingested_before(self.clock() - self.retention)
        if dropped:
            log.info("old ingested keys dropped", dropped=dropped)
        return dropped

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # noqa: BLE001 - a failed sweep is retried at the next one
                log.warning("ingested keys sweep failed", error=type(exc).__name__)
            await asyncio.sleep(self.every_s)
