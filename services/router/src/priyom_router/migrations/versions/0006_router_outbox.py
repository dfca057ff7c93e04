"""The router's outbox: a routing or a queue hand-over is announced from here once its transaction committed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "router_outbox",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_router_outbox"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_router_outbox_published_at", "router_outbox", ["published_at"])


def downgrade() -> None:
    op.drop_table("router_outbox")
