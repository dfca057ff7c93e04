"""What Prometheus is told about SLA deadlines: tickets late now, and how many went late.

Refreshed by each scheduler round (:func:`~priyom_tickets.scheduler.tick`), the same round that marks and
escalates them, so the alert and the escalation see the same tickets. Several tickets processes report the
same count: read the gauge with ``max()``.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .store import overdue
from .tables import tickets


class SlaMetrics:
    """``priyom_tickets_overdue`` (gauge) and ``priyom_tickets_sla_breached_total`` (counter)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.overdue = Gauge("priyom_tickets_overdue", "Tickets still being worked past a first-response or "
                             "resolution deadline, at the last scheduler round", registry=registry)
        self.breached = Counter("priyom_tickets_sla_breached", "Tickets found past an SLA deadline (each "
                                "marked overdue and escalated once)", registry=registry)

    async def refresh(self, session: AsyncSession, *, newly_late: int, now: datetime) -> None:
        self.breached.inc(newly_late)
        self.overdue.set(await session.scalar(select(func.count()).select_from(tickets).where(overdue(now))) or 0)
