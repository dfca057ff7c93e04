"""Identity's word on where a client can still be written to, kept per client (``card_reach``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Filled when identity announces a flagged, merged or edited card (``client.changed.v1``); a card never
announced has no row and its tickets route as before, by ``tickets.reach``. See ``card_reach.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_reach",
        sa.Column("client_id", sa.Uuid(), primary_key=True),
        sa.Column("undeliverable", sa.JSON(), nullable=False),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("messengers", sa.JSON(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("card_reach")
