"""The scheduler round tells Prometheus how many tickets are late now and how many went late."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from priyom_contracts import Event, utcnow
from priyom_kit.db import Database, Inbox
from priyom_kit.outbox import Relay
from priyom_tickets import tables
from priyom_tickets.arrivals import register_contact
from priyom_tickets.policy import QUIET
from priyom_tickets.scheduler import tick
from priyom_tickets.sla_metrics import SlaMetrics


async def test_a_scheduler_round_counts_overdue_tickets(database: Database, inbox: Inbox, make_routed) -> None:
    # On the database alone, not under the running service: its own scheduler's round at start could find these
    # tickets late first (on a slow machine it did), and the rounds here would then find nothing newly late.
    now = utcnow()
    for event in (make_routed(resolution_due_at=now - timedelta(minutes=1)),
                  make_routed(first_response_due_at=now - timedelta(minutes=1)),
                  make_routed(resolution_due_at=now + timedelta(days=1))):
        await register_contact(database.sessions, inbox, event)
    registry = CollectorRegistry()
    metrics = SlaMetrics(registry)
    sent: list[Event] = []

    async def publish(event: Event) -> None:
        sent.append(event)

    relay = Relay(lambda: database.sessions, publish, tables.ticket_outbox)
    for _ in range(2):  # the second round finds nothing new late, and the same two still late
        await tick(database.sessions, relay, silence=timedelta(days=30), policy=QUIET,
                   metrics=metrics)
    assert registry.get_sample_value("priyom_tickets_overdue") == 2
    assert registry.get_sample_value("priyom_tickets_sla_breached_total") == 2
