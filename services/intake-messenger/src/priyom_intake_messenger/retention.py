"""How long intake-messenger keeps what it records, pruned by the kit's :class:`~priyom_kit.retention.RetentionSweep`.

The delivery journal remembers each reply sent (a redelivery within the window is not sent twice); the album
parts remember which contact each part of a Telegram album went into (a part re-sent by Telegram repeats its
contact). Both only grow, and neither is needed after its window.
"""

from __future__ import annotations

from datetime import timedelta

from priyom_kit.retention import RetentionRule

from .settings import IntakeMessengerSettings
from .store import album_parts, deliveries


def retention_rules(settings: IntakeMessengerSettings) -> list[RetentionRule]:
    return [
        RetentionRule(deliveries, "delivered_at", timedelta(days=settings.journal_retention_days)),
        RetentionRule(album_parts, "recorded_at", timedelta(days=settings.album_parts_retention_days)),
    ]
