"""Activities on tickets: call-backs, meetings, documents to prepare, action-plan tasks.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ticket_activities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("owner", sa.String(length=500), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("done_at", UTC_TIME, nullable=True),
        sa.Column("created_by", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["ticket_seq"], ["tickets.seq"], ondelete="CASCADE",
                                name=op.f("fk_ticket_activities_ticket_seq_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_activities")),
    )
    op.create_index(op.f("ix_ticket_activities_ticket_seq"), "ticket_activities", ["ticket_seq"])
    op.create_index(op.f("ix_ticket_activities_owner"), "ticket_activities", ["owner", "due_at"])


def downgrade() -> None:
    op.drop_table("ticket_activities")
