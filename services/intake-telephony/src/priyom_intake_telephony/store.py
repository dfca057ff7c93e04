"""What intake-telephony keeps: every call in progress (its state as the tracker holds it, so a restart
resumes the calls it was following) and the outbox its contacts leave through, so a finished call is a
contact on the bus however often the service or the broker goes down in between."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import JSON, Boolean, Column, String, Table

from priyom_kit.db import DatabaseUrl, UtcDateTimeColumn, make_metadata, upgrade_database
from priyom_kit.outbox import outbox_table

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_intake_telephony"

metadata = make_metadata()

#: One row per call followed: ``finished`` once it hung up, until its contact is staged in the outbox.
telephony_calls = Table(
    "telephony_calls",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("finished", Boolean, nullable=False),
    Column("updated_at", UtcDateTimeColumn, nullable=False),
)

telephony_outbox = outbox_table(metadata, "telephony_outbox")


def migrate_database(url: DatabaseUrl) -> None:
    """Bring the database at ``url`` to the newest schema (``python -m priyom_intake_telephony migrate``)."""
    upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)
