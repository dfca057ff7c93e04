"""The SLA tier a ticket was timed by, when it went overdue, and where it was escalated.

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

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    for name, kind in (("sla_tier", sa.String(length=500)), ("overdue_at", UTC_TIME),
                       ("escalation", sa.String(length=32)), ("escalated_to", sa.String(length=500)),
                       ("escalated_at", UTC_TIME)):
        op.add_column("tickets", sa.Column(name, kind, nullable=True))
    op.create_index(op.f("ix_tickets_resolution_due_at"), "tickets", ["resolution_due_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_resolution_due_at"), table_name="tickets")
    for name in ("escalated_at", "escalated_to", "escalation", "overdue_at", "sla_tier"):
        op.drop_column("tickets", name)
