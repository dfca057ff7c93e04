"""Customer satisfaction: one 1–5 rating with a comment per closed ticket.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_ratings",
        sa.Column("ticket_seq", sa.Integer(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_ticket_ratings_rating_range")),
        sa.ForeignKeyConstraint(["ticket_seq"], ["tickets.seq"], ondelete="CASCADE",
                                name=op.f("fk_ticket_ratings_ticket_seq_tickets")),
        sa.PrimaryKeyConstraint("ticket_seq", name=op.f("pk_ticket_ratings")),
    )


def downgrade() -> None:
    op.drop_table("ticket_ratings")
