"""Which contact each Telegram album part went out in, so a part arriving later is never dropped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_album_parts",
        sa.Column("album", sa.String(200), nullable=False),
        sa.Column("part", sa.String(64), nullable=False),
        sa.Column("contact_key", sa.String(300), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("album", "part", name="pk_telegram_album_parts"),
    )


def downgrade() -> None:
    op.drop_table("telegram_album_parts")
