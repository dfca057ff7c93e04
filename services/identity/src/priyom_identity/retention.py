"""What identity prunes and after how long (the kit's :class:`~priyom_kit.retention.RetentionSweep` runs it)."""

from __future__ import annotations

from datetime import timedelta

from priyom_kit.retention import RetentionRule

from .settings import IdentitySettings
from .tables import card_audit, erasure_reports, erasure_requests, inbox, sent_mail


def retention_rules(settings: IdentitySettings) -> list[RetentionRule]:
    audit = timedelta(days=settings.audit_retention_days)
    return [
        RetentionRule(inbox, "processed_at", timedelta(days=settings.inbox_retention_days)),
        RetentionRule(card_audit, "at", audit),
        # A request the broker has not confirmed yet is still to be sent: never pruned.
        RetentionRule(erasure_requests, "requested_at", audit, only=lambda t: t.c.published_at.is_not(None)),
        RetentionRule(erasure_reports, "reported_at", audit),
        # An answer to mail older than this proves nothing any more: the address stays a claim.
        RetentionRule(sent_mail, "sent_at", audit),
    ]
