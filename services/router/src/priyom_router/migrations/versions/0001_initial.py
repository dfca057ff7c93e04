"""Rule book versions, agents, assignments (load), team cursors and the roster lock.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("comment", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_rule_versions"),
    )
    op.create_table(
        "agents",
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_agents"),
    )
    op.create_table(
        "assignments",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("team", sa.String(500), nullable=False),
        sa.Column("assignee", sa.String(500), nullable=True),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(64), nullable=True),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("routing", sa.JSON(), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_assignments"),
        sa.UniqueConstraint("ticket_number", name="uq_assignments_ticket_number"),
    )
    op.create_index("ix_assignments_assignee_open", "assignments", ["assignee", "open"])
    op.create_table(
        "team_cursors",
        sa.Column("team", sa.String(500), nullable=False),
        sa.Column("last_assignee", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("team", name="pk_team_cursors"),
    )
    op.create_table(
        "roster_lock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_roster_lock"),
    )
    op.bulk_insert(sa.table("roster_lock", sa.column("id", sa.Integer()), sa.column("turns", sa.Integer())),
                   [{"id": 1, "turns": 0}])


def downgrade() -> None:
    op.drop_table("roster_lock")
    op.drop_table("team_cursors")
    op.drop_index("ix_assignments_assignee_open", table_name="assignments")
    op.drop_table("assignments")
    op.drop_table("agents")
    op.drop_table("rule_versions")
