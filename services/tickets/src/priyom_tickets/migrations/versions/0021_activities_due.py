"""An index on ``ticket_activities.due_at``: every second, each process reads the activities whose reminder
moment has just passed (activity_reminders.py).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_activities_due_at", "ticket_activities", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_activities_due_at", table_name="ticket_activities")
