"""Agents' internal notes on a ticket (``ticket_notes``) and the mentions they make (``staff_mentions``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

Notes are kept apart from ``ticket_messages`` on purpose: the thread's messages are what the customer wrote and
what was sent to them, and every customer-facing surface reads them; a note must never be one. See notes.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("ticket_seq", sa.Integer(), sa.ForeignKey("tickets.seq", ondelete="CASCADE"), nullable=False),
        sa.Column("author", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ticket_notes_ticket_seq", "ticket_notes", ["ticket_seq", "created_at"])
    op.create_table(
        "staff_mentions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("staff_name", sa.String(length=500), nullable=False),
        sa.Column("note_id", sa.Uuid(), sa.ForeignKey("ticket_notes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_staff_mentions_staff_name", "staff_mentions", ["staff_name", "seen_at"])


def downgrade() -> None:
    op.drop_table("staff_mentions")
    op.drop_table("ticket_notes")
