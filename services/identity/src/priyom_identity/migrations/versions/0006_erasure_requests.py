"""Erasure requests (the outbox of ``person.erased`` / ``client.erased``) and the services' reports on them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

``erasure_requests``: one row per erased person, the message to publish and when the broker confirmed it.
``erasure_reports``: one row per service that redacted its stores, with counts per store (no personal data).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from priyom_kit.db import UtcDateTimeColumn

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("requested_at", UtcDateTimeColumn(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("published_at", UtcDateTimeColumn(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.UniqueConstraint("person_id", name="uq_erasure_requests_person_id"),
    )
    op.create_index("ix_erasure_requests_client_id", "erasure_requests", ["client_id"])
    op.create_table(
        "erasure_reports",
        sa.Column("erasure_id", sa.Uuid(), primary_key=True),
        sa.Column("service", sa.String(length=64), primary_key=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("reported_at", UtcDateTimeColumn(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erasure_reports")
    op.drop_index("ix_erasure_requests_client_id", table_name="erasure_requests")
    op.drop_table("erasure_requests")
