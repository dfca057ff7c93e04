"""Ticket numbers are text (``2026-000123``, TicketNumber in the contracts), not integers; the history is
found by contact id when ``ticket.created`` names it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nothing has filled the column yet (0002 added it empty), so the type changes without a conversion.
    with op.batch_alter_table("contact_history") as batch:
        batch.drop_column("ticket_number")
    op.add_column("contact_history", sa.Column("ticket_number", sa.String(20), nullable=True))
    op.create_index("ix_contact_history_contact_id", "contact_history", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_contact_history_contact_id", table_name="contact_history")
    with op.batch_alter_table("contact_history") as batch:
        batch.drop_column("ticket_number")
    op.add_column("contact_history", sa.Column("ticket_number", sa.BigInteger(), nullable=True))
