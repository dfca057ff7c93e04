"""What tickets prunes and after how long (the kit's :class:`~priyom_kit.retention.RetentionSweep` runs it).

Tickets themselves, their messages and history are the record of the work and stay (an erasure redacts what
names a person); what only grows beside them goes: processed keys, sent events, old dead letters.
"""

from __future__ import annotations

from datetime import timedelta

from priyom_kit.retention import RetentionRule

from .settings import TicketsSettings
from .tables import dead_letters, inbox, ticket_outbox


def retention_rules(settings: TicketsSettings) -> list[RetentionRule]:
    return [
        RetentionRule(inbox, "processed_at", timedelta(days=settings.inbox_retention_days)),
        # An unsent event is still to be sent: never pruned.
        RetentionRule(ticket_outbox, "created_at", timedelta(days=settings.outbox_retention_days),
                      only=lambda t: t.c.published_at.is_not(None)),
        RetentionRule(dead_letters, "kept_at", timedelta(days=settings.dead_letter_retention_days)),
    ]
