"""Re-matching after a UIDVALIDITY change: the keys of ingested mail per mailbox, and how far to re-match.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imap_checkpoints") as batch:
        batch.add_column(sa.Column("rematch_until", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "imap_ingested",
        sa.Column("mailbox", sa.String(length=64), nullable=False),
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mailbox", "key_digest", name=op.f("pk_imap_ingested")),
    )


def downgrade() -> None:
    op.drop_table("imap_ingested")
    with op.batch_alter_table("imap_checkpoints") as batch:
        batch.drop_column("rematch_until")
