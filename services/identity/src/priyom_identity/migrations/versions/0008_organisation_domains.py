"""The mail domains of confirmed organisations, for the colleague lookup of a new sender.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

``organisation_domains``: one row per (domain, confirmed organisation using it), derived from ``identifiers``
and ``clients`` (see ``priyom_identity/organisation_domains.py``, which keeps it current). Filled here from the
cards already on file, so a colleague of an organisation confirmed before this migration still joins it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation_domains",
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE",
                                name="fk_organisation_domains_client_id_clients"),
        sa.PrimaryKeyConstraint("domain", "client_id", name="pk_organisation_domains"),
    )
    op.create_index("ix_organisation_domains_client_id", "organisation_domains", ["client_id"])
    op.execute(
        "INSERT INTO organisation_domains (domain, client_id) "
        "SELECT DISTINCT identifiers.domain, identifiers.client_id FROM identifiers "
        "JOIN clients ON clients.id = identifiers.client_id "
        "WHERE identifiers.domain IS NOT NULL AND clients.kind = 'org' AND clients.provisional IS FALSE")


def downgrade() -> None:
    op.drop_index("ix_organisation_domains_client_id", table_name="organisation_domains")
    op.drop_table("organisation_domains")
