"""Whether a signed-in customer reads the ``clients`` articles: decided from their card at sign-in (a contract in
force or an SLA tier above the default), kept on the code and then on the session.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("portal_sign_in_codes", "portal_sessions")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("reads_clients", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("reads_clients")
