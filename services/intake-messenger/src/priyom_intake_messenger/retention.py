"""How long intake-messenger keeps what it records, pruned by the kit's :class:`~priyom_kit.retention.RetentionSweep`.

The delivery journal remembers each reply sent (a redelivery within the window is not sent twice); the album
parts remember which contact each part of a Telegram album went into (a part re-sent by Telegram repeats its
contact); the chat keeps visitors and their conversations for a visitor who comes back. Each only grows, and
none is needed after its window.
"""

from __future__ import annotations

from datetime import timedelta

from priyom_kit.retention import RetentionRule

from .settings import IntakeMessengerSettings
from .store import album_parts, chat_messages, chat_visitors, deliveries


def retention_rules(settings: IntakeMessengerSettings) -> list[RetentionRule]:
    return [
        RetentionRule(deliveries, "delivered_at", timedelta(days=settings.journal_retention_days)),
        RetentionRule(album_parts, "recorded_at", timedelta(days=settings.album_parts_retention_days)),
        RetentionRule(chat_messages, "created_at", timedelta(days=settings.chat_history_retention_days)),
        RetentionRule(chat_visitors, "seen_at", timedelta(days=settings.chat_history_retention_days)),
    ]
