"""The customers' account: one-time sign-in codes and sessions (hashes only, never a code or a token).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_sign_in_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("identifier_kind", sa.String(64), nullable=False),
        sa.Column("identifier_value", sa.String(320), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("sees_organisation", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_portal_sign_in_codes"),
    )
    op.create_index("ix_portal_sign_in_codes_expires_at", "portal_sign_in_codes", ["expires_at"])
    op.create_table(
        "portal_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("sees_organisation", sa.Boolean(), nullable=False),
        sa.Column("identifier_kind", sa.String(64), nullable=False),
        sa.Column("identifier_value", sa.String(320), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_portal_sessions"),
    )
    op.create_index("ix_portal_sessions_expires_at", "portal_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_portal_sessions_expires_at", table_name="portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_index("ix_portal_sign_in_codes_expires_at", table_name="portal_sign_in_codes")
    op.drop_table("portal_sign_in_codes")
