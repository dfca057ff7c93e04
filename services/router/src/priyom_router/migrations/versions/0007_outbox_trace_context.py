"""The trace context of each staged event, so its later publish continues the trace that staged it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

``trace_context`` holds the W3C ``traceparent`` (and ``tracestate``) current when the row was staged, or
nothing when tracing is off (docs/observability.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("router_outbox", sa.Column("trace_context", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("router_outbox") as batch:
        batch.drop_column("trace_context")
