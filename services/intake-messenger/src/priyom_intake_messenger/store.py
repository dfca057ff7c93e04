"""intake-messenger's own small state: the journal of replies delivered (see :mod:`priyom_kit.adapters.journal`).

The messenger keeps no conversation state (the topic travels in the prompt, the ticket number in the survey's
buttons); the one thing it must remember across a restart is which replies already reached a customer, so a
reply redelivered after a crash is not sent to the chat a second time. ``migrations/versions`` creates it.
"""

from __future__ import annotations

from pathlib import Path

from priyom_kit import db
from priyom_kit.adapters.journal import delivery_journal_table

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_intake_messenger"

metadata = db.make_metadata()
deliveries = delivery_journal_table(metadata)


def migrate_database(url: db.DatabaseUrl) -> None:
    """Upgrade ``url`` to the newest schema (``python -m priyom_intake_messenger migrate``, and tests)."""
    db.upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)
