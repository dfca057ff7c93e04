"""Staff get the console's language and time zone: each agent reads it in their own (api/preferences.py).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04

Both NULL until the agent chooses: the console then follows the browser's language and zone. Checked by the
API (``ru``/``en``, a name in the IANA zone database), not by the database, so a language added later needs
no migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff", sa.Column("locale", sa.String(length=8), nullable=True))
    op.add_column("staff", sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("time_zone")
        batch.drop_column("locale")
