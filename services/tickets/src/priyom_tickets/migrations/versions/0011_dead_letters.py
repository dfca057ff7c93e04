"""Dead letters are kept in a table, where an admin lists, replays and discards them.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03

A queue nobody reads is a graveyard: tickets consumes ``priyom.dead-letters`` into ``dead_letters`` (the body
whole, the headers, what failed where and why) and acknowledges each only after the commit. ``state`` is
``waiting``, ``replayed`` or ``discarded``; who did it, when and why are in the ``handled_*`` columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("failed_at", UTC_TIME, nullable=False),
        sa.Column("kept_at", UTC_TIME, nullable=False),
        sa.Column("service", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("routing_key", sa.String(length=255), nullable=True),
        sa.Column("message_type", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("correlation_id", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("error_kind", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=True),
        sa.Column("preview", sa.String(length=200), nullable=False),
        sa.Column("not_replayable", sa.Text(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("handled_by", sa.String(length=500), nullable=True),
        sa.Column("handled_at", UTC_TIME, nullable=True),
        sa.Column("handled_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_dead_letters_fingerprint")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_dead_letters_state"), "dead_letters", ["state", "failed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dead_letters_state"), table_name="dead_letters")
    op.drop_table("dead_letters")
