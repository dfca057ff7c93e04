"""One lock row per balancing group instead of one for the whole roster.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("roster_lock")
    op.create_table(
        "roster_locks",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_roster_locks"),
    )


def downgrade() -> None:
    op.drop_table("roster_locks")
    op.create_table(
        "roster_lock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_roster_lock"),
    )
    op.bulk_insert(sa.table("roster_lock", sa.column("id", sa.Integer()), sa.column("turns", sa.Integer())),
                   [{"id": 1, "turns": 0}])
