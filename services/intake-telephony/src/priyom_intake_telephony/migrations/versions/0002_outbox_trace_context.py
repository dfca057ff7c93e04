"""The trace context of each staged event, so its later publish continues the trace that staged it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

``trace_context`` holds the W3C ``traceparent`` (and ``tracestate``) current when the row was staged, or
nothing when tracing is off (docs/observability.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("telephony_outbox", sa.Column("trace_context", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("telephony_outbox") as batch:
        batch.drop_column("trace_context")
