"""Identifiers an unauthenticated channel only claimed (a web form, a mail's From, the JSON webhook).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

``identifiers.verified``: False for a claim, which never identifies a caller nor fills a pop-up until an agent
confirms it or a channel proves it; ``verified_by`` names who did. Every row already there counts as verified
(``server_default``): what was matched before keeps matching, and agents review new claims only.
``sent_mail``: digests of (Message-ID, recipient) of the mail we delivered, so an answer quoting one proves
its sender's address.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from priyom_kit.db import UtcDateTimeColumn

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identifiers") as batch:
        batch.add_column(sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("verified_by", sa.String(length=200), nullable=True))
    op.create_table(
        "sent_mail",
        sa.Column("digest", sa.String(length=64), primary_key=True),
        sa.Column("sent_at", UtcDateTimeColumn, nullable=False),
    )
    op.create_index("ix_sent_mail_sent_at", "sent_mail", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_sent_mail_sent_at", table_name="sent_mail")
    op.drop_table("sent_mail")
    with op.batch_alter_table("identifiers") as batch:
        batch.drop_column("verified_by")
        batch.drop_column("verified")
