"""The calls in progress (so a restart resumes them) and the outbox of finished calls' contacts.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telephony_calls",
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_telephony_calls"),
    )
    op.create_table(
        "telephony_outbox",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_telephony_outbox"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_telephony_outbox_published_at", "telephony_outbox", ["published_at"])


def downgrade() -> None:
    op.drop_table("telephony_outbox")
    op.drop_table("telephony_calls")
