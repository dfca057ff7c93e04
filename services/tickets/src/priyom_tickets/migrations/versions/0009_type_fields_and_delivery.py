"""The client's name on the ticket, the fields of its type, bounced replies, and machine-written messages.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

``client_name`` is the card's display name as identity sent it, so the console's queue can show who wrote
without asking identity per row. ``type_fields`` holds what only some types need (a complaint's claimed
amount, a service request's contract number), validated per type by ``type_fields.py``.
``delivery_failed_at`` flags a ticket whose reply bounced; ``ticket_messages.automated`` says that an
inbound message was written by a machine (an out-of-office reply, a bounce), which never reopens a ticket.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("client_name", sa.String(length=500), nullable=True))
    op.add_column("tickets", sa.Column("type_fields", sa.JSON(), nullable=True))
    op.add_column("tickets", sa.Column("delivery_failed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("ticket_messages", sa.Column("automated", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket_messages") as batch:
        batch.drop_column("automated")
    with op.batch_alter_table("tickets") as batch:
        for name in ("delivery_failed_at", "type_fields", "client_name"):
            batch.drop_column(name)
