"""Retention for the tables that only grow (inboxes, outboxes, audit, dead letters): old rows pruned in
batches by the kit's :class:`~priyom_kit.periodic.Periodic`.

Each service names its rules (a table, the time column, how long, and which rows may go at all) and the
sweep deletes ``batch`` rows per transaction, so a long backlog never holds a lock its consumers wait on.
The counts are logged, never the rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Table, delete, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from .logging import get_logger
from .periodic import Periodic

log = get_logger("priyom.retention")

#: Rows deleted per transaction.
BATCH = 500
#: How often a service prunes (seconds).
EVERY_S = 3600.0


@dataclass(frozen=True)
class RetentionRule:
    """Rows of ``table`` whose ``column`` is older than ``keep`` go, among those ``only`` allows."""

    table: Table
    column: str
    keep: timedelta
    only: Callable[[Table], ColumnElement[bool]] | None = None

    @property
    def name(self) -> str:
        return self.table.name


async def prune(sessions: Callable[[], AsyncSession], rule: RetentionRule, now: datetime,
                batch: int = BATCH) -> int:
    """Delete the rule's expired rows, ``batch`` per transaction; how many went."""
    table, key = rule.table, list(rule.table.primary_key.columns)
    expired = table.c[rule.column] < now - rule.keep
    allowed = rule.only(table) if rule.only is not None else true()
    dropped = 0
    while True:
        oldest = select(*key).where(expired, allowed).limit(batch)
        target = key[0].in_(oldest.scalar_subquery()) if len(key) == 1 else tuple_(*key).in_(oldest)
        async with sessions() as session, session.begin():
            count = (await session.execute(delete(table).where(target))).rowcount or 0
        dropped += count
        if count < batch:
            return dropped
        await asyncio.sleep(0)  # let the service's other work in between batches


class RetentionSweep:
    """Prunes every rule at start and every ``every_s`` seconds; ``launch`` / ``stop`` are lifecycle hooks."""

    def __init__(self, service: str, sessions: Callable[[], AsyncSession], rules: Sequence[RetentionRule], *,
                 every_s: float = EVERY_S, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.service = service
        self.sessions = sessions
        self.rules = list(rules)
        self.clock = clock
        self._loop = Periodic(f"{service}-retention", self.sweep, every_s=every_s)

    async def sweep(self) -> dict[str, int]:
        """Prune every rule now; the rows dropped per table."""
        now = self.clock()
        dropped = {rule.name: await prune(self.sessions, rule, now) for rule in self.rules}
        if any(dropped.values()):
            log.info("expired rows pruned", service=self.service, **dropped)
        return dropped

    async def launch(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
