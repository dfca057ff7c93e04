"""Forgetting the keys of old ingested IMAP mail, so ``imap_ingested`` does not keep one row per mail for ever.

The keys exist to recognise mail already published when a mailbox comes back with a new UIDVALIDITY (a
recreated or migrated mailbox). Past the retention (``INTAKE_EMAIL_IMAP_INGESTED_RETENTION_DAYS``, 180 days by
default) that protection ends: such a mailbox would publish its older mail again, and tickets' inbox, which
drops a contact whose idempotency key it already saw, is what stops a second ticket. The sweep runs at start and
then hourly in the background (the kit's :class:`~priyom_kit.periodic.Periodic`), in small batches, never holding
up a mailbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from priyom_kit.logging import get_logger
from priyom_kit.periodic import Periodic

from ..store import Checkpoints

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
        self._loop = Periodic("imap-ingested-sweep", self.sweep, every_s=every_s)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def sweep(self) -> int:
        """Drop the keys older than the retention now; how many."""
        dropped = await self.checkpoints.forget_ingested_before(self.clock() - self.retention)
        if dropped:
            log.info("old ingested keys dropped", dropped=dropped)
        return dropped
