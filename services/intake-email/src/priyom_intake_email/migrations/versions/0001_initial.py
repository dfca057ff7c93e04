"""IMAP checkpoints (per mailbox: UIDVALIDITY and the last UID whose publish was confirmed) and sent replies.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
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
        "imap_checkpoints",
        sa.Column("mailbox", sa.String(length=64), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mailbox", name=op.f("pk_imap_checkpoints")),
    )
    op.create_table(
        "sent_replies",
        sa.Column("reply_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reply_id", name=op.f("pk_sent_replies")),
    )


def downgrade() -> None:
    op.drop_table("sent_replies")
    op.drop_table("imap_checkpoints")
