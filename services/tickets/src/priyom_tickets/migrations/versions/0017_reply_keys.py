"""The agent's Idempotency-Key on a reply (``ticket_messages.reply_key``), one reply per ticket and key.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

A console that sends twice (a double click, a retry after a lost answer) names the same key; the unique index
makes the second insert fail rather than send the customer the same answer again. Rows before this have none
(NULL, which the index does not compare). See ``reply_keys.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ticket_messages", sa.Column("reply_key", sa.String(length=200), nullable=True))
    op.create_index("ix_ticket_messages_reply_key", "ticket_messages", ["ticket_seq", "reply_key"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ix_ticket_messages_reply_key", table_name="ticket_messages")
    with op.batch_alter_table("ticket_messages") as batch:
        batch.drop_column("reply_key")
