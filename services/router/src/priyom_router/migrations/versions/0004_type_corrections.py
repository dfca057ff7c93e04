"""Agents' corrections of ticket types, with the text judged: the learned classifier's training examples.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "type_corrections",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_number", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_type_corrections"),
    )


def downgrade() -> None:
    op.drop_table("type_corrections")
