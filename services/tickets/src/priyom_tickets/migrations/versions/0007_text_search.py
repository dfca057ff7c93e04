"""Trigram indexes for the ticket list's text search (``q``) on PostgreSQL.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

``ILIKE '%word%'`` over a million messages is a sequential scan (seconds, measured by bench/tickets.py);
pg_trgm's GIN indexes answer it from the index. Creating the extension needs a privileged role: where the
migration's role may not, the indexes are skipped with a notice and search stays correct, only slower.
SQLite keeps scanning, which suits the embedded sizes it serves. The indexes are not in the SQLAlchemy
metadata (they exist on one dialect only); the schema test leaves them out of its comparison by name.
"""

from __future__ import annotations

import logging

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TRGM_INDEXES = {"ix_tickets_subject_trgm": ("tickets", "subject"),
                "ix_ticket_messages_body_trgm": ("ticket_messages", "body")}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - a missing privilege leaves search slower, not broken
        logging.getLogger("alembic").warning("pg_trgm unavailable, text search stays unindexed: %s", exc)
        return
    for name, (table, column) in TRGM_INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TRGM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
