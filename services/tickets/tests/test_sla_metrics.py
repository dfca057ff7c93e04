"""The scheduler round tells Prometheus how many tickets are late now and how many went late."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from priyom_contracts import Event, utcnow
from priyom_kit.outbox import Relay
from priyom_tickets import tables
from priyom_tickets.scheduler import tick
from priyom_tickets.sla_metrics import SlaMetrics


async def test_a_scheduler_round_counts_overdue_tickets(tickets, make_routed) -> None:
    now = utcnow()
    await tickets.register(make_routed(resolution_due_at=now - timedelta(minutes=1)))
    await tickets.register(make_routed(first_response_due_at=now - timedelta(minutes=1)))
    await tickets.register(make_routed(resolution_due_at=now + timedelta(days=1)))
    registry = CollectorRegistry()
    metrics = SlaMetrics(registry)
    sent: list[Event] = []

    async def publish(event: Event) -> None:
        sent.append(event)

    relay = Relay(lambda: tickets.database.sessions, publish, tables.ticket_outbox)
    for _ in range(2):  # the second round finds nothing new late, and the same two still late
        await tick(tickets.database.sessions, relay, silence=timedelta(days=30), policy=tickets.policy,
                   metrics=metrics)
    assert registry.get_sample_value("priyom_tickets_overdue") == 2
    assert registry.get_sample_value("priyom_tickets_sla_breached_total") == 2
