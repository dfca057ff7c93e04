"""The full client card: legal id, region, tags, notes, contracts, person roles, email domains, the ticket
number in the contact history, and the audit of merges and erasures.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("clients", sa.Column("legal_id", sa.String(32), nullable=True))
    op.add_column("clients", sa.Column("region", sa.String(100), nullable=True))
    op.add_column("clients", sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("clients", sa.Column("notes", sa.Text(), nullable=True))
    op.add_column("clients", sa.Column("search_name", sa.String(500), nullable=True))
    op.create_index("ix_clients_search_name", "clients", ["search_name"])
    op.add_column("contact_persons", sa.Column("role", sa.String(32), nullable=True))
    op.add_column("contact_persons", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("identifiers", sa.Column("domain", sa.String(255), nullable=True))
    op.create_index("ix_identifiers_domain", "identifiers", ["domain"])
    op.add_column("contact_history", sa.Column("ticket_number", sa.BigInteger(), nullable=True))
    op.create_table(
        "client_contracts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(500), nullable=False),
        sa.Column("service", sa.String(500), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE",
                                name="fk_client_contracts_client_id_clients"),
        sa.PrimaryKeyConstraint("id", name="pk_client_contracts"),
    )
    op.create_index("ix_client_contracts_client_id", "client_contracts", ["client_id"])
    op.create_table(
        "card_audit",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("other_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_card_audit"),
    )
    op.create_index("ix_card_audit_client_id", "card_audit", ["client_id"])
    op.create_index("ix_card_audit_other_id", "card_audit", ["other_id"])
    # Existing cards and email identifiers get the derived columns the new code maintains.
    clients = sa.table("clients", sa.column("id", sa.Uuid()), sa.column("name", sa.String()),
                       sa.column("search_name", sa.String()))
    connection = op.get_bind()
    for row in connection.execute(sa.select(clients.c.id, clients.c.name)).all():
        connection.execute(clients.update().where(clients.c.id == row.id)
                           .values(search_name=row.name.casefold()))
    identifiers = sa.table("identifiers", sa.column("id", sa.Uuid()), sa.column("kind", sa.String()),
                           sa.column("value", sa.String()), sa.column("domain", sa.String()))
    for row in connection.execute(sa.select(identifiers.c.id, identifiers.c.value)
                                  .where(identifiers.c.kind == "email")).all():
        connection.execute(identifiers.update().where(identifiers.c.id == row.id)
                           .values(domain=row.value.rpartition("@")[2]))


def downgrade() -> None:
    op.drop_index("ix_card_audit_other_id", table_name="card_audit")
    op.drop_index("ix_card_audit_client_id", table_name="card_audit")
    op.drop_table("card_audit")
    op.drop_index("ix_client_contracts_client_id", table_name="client_contracts")
    op.drop_table("client_contracts")
    with op.batch_alter_table("contact_history") as batch:
        batch.drop_column("ticket_number")
    with op.batch_alter_table("identifiers") as batch:
        batch.drop_index("ix_identifiers_domain")
        batch.drop_column("domain")
    with op.batch_alter_table("contact_persons") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("role")
    with op.batch_alter_table("clients") as batch:
        batch.drop_index("ix_clients_search_name")
        for column in ("search_name", "notes", "tags", "region", "legal_id"):
            batch.drop_column(column)
