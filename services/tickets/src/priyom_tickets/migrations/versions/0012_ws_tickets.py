"""One-time tickets for the agent's WebSocket, so no long-lived token travels in a URL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

A console asks ``POST /api/v1/ws-tickets`` (Bearer) for a ticket valid 60 s and opens
``/ws/agent?extension=N&ticket=X`` with it; the ticket is kept hashed and deleted when redeemed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ws_tickets",
        sa.Column("ticket_sha256", sa.String(length=64), primary_key=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("ws_tickets")
