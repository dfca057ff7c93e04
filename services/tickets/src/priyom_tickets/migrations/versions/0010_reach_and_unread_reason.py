"""Where the client can be answered, and why a message could not be read whole.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

``tickets.reach`` is the client's e-mail, messenger id and phone as identity sent them with the latest
contact (``ClientMatch.reach``): a web-form or phone customer is answered there. ``ticket_messages.unread_reason``
is why the channel could not read a message whole (a mail over a parse limit, kept as an attachment).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("reach", sa.JSON(), nullable=True))
    op.add_column("ticket_messages", sa.Column("unread_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket_messages") as batch:
        batch.drop_column("unread_reason")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("reach")
