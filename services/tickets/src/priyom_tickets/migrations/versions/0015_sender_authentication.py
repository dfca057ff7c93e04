"""Inbound mail keeps its sender's authentication (SPF, DKIM, DMARC) and the flag of an unproven sender.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

``ticket_messages.sender_auth`` is what intake-email found (``Contact.sender_auth`` with the overall
``sender_authenticated``); ``sender_flag`` marks a mail that claims a known client's address without proof, which
can no longer rate, close or reopen a ticket by itself (see ``sender_trust.py``). Earlier messages have neither.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ticket_messages", sa.Column("sender_auth", sa.JSON(), nullable=True))
    op.add_column("ticket_messages", sa.Column("sender_flag", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket_messages") as batch:
        batch.drop_column("sender_flag")
        batch.drop_column("sender_auth")
