"""The service's clock: marks and escalates overdue tickets, closes silent ones, re-sends what a failed
publish left in the outbox. The kit's :class:`~priyom_kit.periodic.Periodic` runs :func:`tick` (app.py).

Both jobs are safe to run on several instances at once (the outbox re-send is idempotent for subscribers,
and the closing query skips rows another instance holds), so there is no leader election.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import utcnow
from priyom_kit import get_logger
from priyom_kit.outbox import Relay

from . import changes
from .policy import Policy
from .sla_metrics import SlaMetrics

log = get_logger("priyom.tickets.scheduler")


async def tick(sessions: async_sessionmaker[AsyncSession], relay: Relay, *, silence: timedelta,
               policy: Policy, metrics: SlaMetrics | None = None) -> tuple[list[str], list[str]]:
    """One round: mark and escalate what went late, close what waited too long for the customer, then publish
    everything staged. Returns the numbers found late and the numbers closed."""
    async with sessions() as session:
        late = await changes.mark_overdue(session, policy=policy, now=utcnow())
        await session.commit()
        closed = await changes.close_silent(session, silence=silence, policy=policy, now=utcnow())
        await session.commit()
        if metrics is not None:
            await metrics.refresh(session, newly_late=len(late), now=utcnow())
    if late or closed:
        log.info("scheduler round", overdue=len(late), closed=len(closed))
    await relay.flush_quietly()
    return late, closed
