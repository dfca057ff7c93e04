"""An index on ``tickets.updated_at``: the live feed reads the tickets changed in the last seconds, every second.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04

See live_feed.py.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_updated_at", "tickets", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_updated_at", table_name="tickets")
