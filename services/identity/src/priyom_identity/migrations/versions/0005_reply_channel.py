"""Where a client wants answers when their own channel has no way back (the web form, a phone call).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

``clients.reply_channel``: ``telegram`` or ``email`` (empty: the deployment's order, TICKETS_REPLY_FALLBACK).
Identity sends it to tickets with every identification (``ClientMatch.reach.prefers``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("reply_channel", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("reply_channel")
