"""The service's clock: marks and escalates overdue tickets, closes silent ones, re-sends what a failed
publish left in the outbox.

Both jobs are safe to run on several instances at once (the outbox re-send is idempotent for subscribers,
and the closing query skips rows another instance holds), so there is no leader election.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import utcnow
from priyom_kit import get_logger

from . import workflow
from .outbox import Relay

log = get_logger("priyom.tickets.scheduler")


async def tick(sessions: async_sessionmaker[AsyncSession], relay: Relay, *, silence: timedelta,
               policy: workflow.Policy) -> tuple[list[str], list[str]]:
    """One round: mark and escalate what went late, close what waited too long for the customer, then publish
    everything staged. Returns the numbers found late and the numbers closed."""
    async with sessions() as session:
        late = await workflow.mark_overdue(session, policy=policy, now=utcnow())
        await session.commit()
        closed = await workflow.close_silent(session, silence=silence, policy=policy, now=utcnow())
        await session.commit()
    if late or closed:
        log.info("scheduler round", overdue=len(late), closed=len(closed))
    await relay.flush_quietly()
    return late, closed


class Scheduler:
    """Runs :func:`tick` every ``interval_s`` between the service's start and stop."""

    def __init__(self, sessions: Callable[[], async_sessionmaker[AsyncSession]], relay: Relay, *,
                 interval_s: float, silence: timedelta, policy: workflow.Policy) -> None:
        self._sessions, self._relay = sessions, relay
        self._interval_s, self._silence, self._policy = interval_s, silence, policy
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tickets-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await tick(self._sessions(), self._relay, silence=self._silence, policy=self._policy)
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.warning("scheduler round failed", error=f"{type(exc).__name__}: {exc}"[:500])
