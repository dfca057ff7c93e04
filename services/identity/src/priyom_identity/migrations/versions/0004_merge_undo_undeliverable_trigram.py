"""Merge undo, undeliverable addresses, and trigram search of card names.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

* ``card_merges``: what a merge needs to be undone (the merged-away card's row and the ids of what moved).
  Personal data, unlike the audit: an erasure deletes the snapshots that hold the person's data.
* ``identifiers.undeliverable_at`` / ``undeliverable_reason``: mail to this address failed for good.
* On PostgreSQL, pg_trgm's GIN index on ``clients.search_name`` answers the name search (``LIKE '%…%'``
  and similarity) from the index. As in tickets' 0007: where the migration's role may not create the
  extension, the index is skipped with a warning and search stays correct, only slower (and exact).
  The index exists on one dialect only, so it is not in the SQLAlchemy metadata.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from priyom_kit.db import UtcDateTimeColumn
from priyom_kit.migrations import create_extension_or_warn

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TRGM_INDEX = "ix_clients_search_name_trgm"


def upgrade() -> None:
    op.create_table(
        "card_merges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("merged_at", UtcDateTimeColumn(), nullable=False),
        sa.Column("source_card", sa.JSON(), nullable=False),
        sa.Column("target_before", sa.JSON(), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("undone_at", UtcDateTimeColumn(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_card_merges"),
    )
    op.create_index("ix_card_merges_target_id", "card_merges", ["target_id"])
    op.create_index("ix_card_merges_source_id", "card_merges", ["source_id"])
    with op.batch_alter_table("identifiers") as batch:
        batch.add_column(sa.Column("undeliverable_at", UtcDateTimeColumn(), nullable=True))
        batch.add_column(sa.Column("undeliverable_reason", sa.String(500), nullable=True))
    if not create_extension_or_warn("pg_trgm", "name search stays unindexed and exact"):
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON clients USING gin (search_name gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")
    with op.batch_alter_table("identifiers") as batch:
        batch.drop_column("undeliverable_reason")
        batch.drop_column("undeliverable_at")
    op.drop_index("ix_card_merges_source_id", table_name="card_merges")
    op.drop_index("ix_card_merges_target_id", table_name="card_merges")
    op.drop_table("card_merges")
