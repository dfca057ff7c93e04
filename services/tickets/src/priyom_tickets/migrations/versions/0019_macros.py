"""Macros and canned answers (``macros``): a reply text with variables, and the changes it makes to a ticket.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

A macro is personal (its ``owner``), a team's (``team``) or everyone's (``shared``). See macros.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "macros",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=500), nullable=True),
        sa.Column("team", sa.String(length=500), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.String(length=64), nullable=True),
        sa.Column("set_type", sa.String(length=32), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_macros_scope", "macros", ["scope", "team", "owner"])


def downgrade() -> None:
    op.drop_table("macros")
