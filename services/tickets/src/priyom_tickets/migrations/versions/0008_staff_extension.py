"""Staff get an optional telephone extension: the phone whose ringing pops the caller's card up for them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Unique, because the pop-up for a ringing extension must go to one person; NULL for staff without a phone
(several NULLs are allowed by both databases' unique indexes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff", sa.Column("extension", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_staff_extension"), "staff", ["extension"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_extension"), table_name="staff")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("extension")
