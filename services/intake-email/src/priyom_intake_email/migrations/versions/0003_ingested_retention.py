"""Retention of the ingested keys: an index on ``imap_ingested.ingested_at`` so the prune finds old rows
without reading the whole table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_imap_ingested_ingested_at"), "imap_ingested", ["ingested_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_imap_ingested_ingested_at"), table_name="imap_ingested")
