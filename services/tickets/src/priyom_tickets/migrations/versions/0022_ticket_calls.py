"""``ticket_calls``: the phone calls that became a ticket or a follow-up, and how each ended (call_log.py).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_calls",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("ticket_seq", sa.Integer, sa.ForeignKey("tickets.seq", ondelete="CASCADE"), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(500)),
        sa.Column("queue", sa.String(500)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_ticket_calls_started_at", "ticket_calls", ["started_at"])
    op.create_index("ix_ticket_calls_ticket_seq", "ticket_calls", ["ticket_seq"])


def downgrade() -> None:
    op.drop_table("ticket_calls")
