"""intake-messenger's own small state: the journal of replies delivered (see :mod:`priyom_kit.adapters.journal`).

The messenger keeps no conversation state (the topic travels in the prompt, the ticket number in the survey's
buttons); what it must remember across a restart is which replies already reached a customer, so a reply
redelivered after a crash is not sent to the chat a second time, and which contact each Telegram album part
went out in, so a part that arrives later is never folded into a contact already published (its content
would be dropped as a repeat). ``migrations/versions`` creates them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, String, Table

from priyom_kit import db
from priyom_kit.adapters.journal import delivery_journal_table

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_intake_messenger"

metadata = db.make_metadata()
deliveries = delivery_journal_table(metadata)

#: Each album part (a digest of its text and file ids) and the key of the contact it went out in.
album_parts = Table(
    "telegram_album_parts",
    metadata,
    Column("album", String(200), primary_key=True),
    Column("part", String(64), primary_key=True),
    Column("contact_key", String(300), nullable=False),
    Column("recorded_at", db.UtcDateTimeColumn, nullable=False),
)


def migrate_database(url: db.DatabaseUrl) -> None:
    """Upgrade ``url`` to the newest schema (``python -m priyom_intake_messenger migrate``, and tests)."""
    db.upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)
