"""Staff tokens expire and can be revoked: the token's expiry and its revocation on the account.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

Tokens made before this revision get an expiry 90 days from the upgrade, so none stays valid for ever.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("token_expires_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("token_revoked_at", sa.DateTime(timezone=True)))
    staff = sa.table("staff", sa.column("token_expires_at", sa.DateTime(timezone=True)))
    op.execute(staff.update().values(token_expires_at=datetime.now(UTC) + timedelta(days=90)))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("token_revoked_at")
        batch.drop_column("token_expires_at")
