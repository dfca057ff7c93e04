"""The channel of each routed contact, so a contact assigned later is announced on its own channel.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("channel", sa.String(32), nullable=True))
    op.create_index("ix_assignments_waiting_team", "assignments", ["waiting", "team"])


def downgrade() -> None:
    op.drop_index("ix_assignments_waiting_team", table_name="assignments")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("channel")
