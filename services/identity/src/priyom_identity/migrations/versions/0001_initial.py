"""Client cards, contact persons, identifiers, contact history and the consumer inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("sla_tier", sa.String(64), nullable=False, server_default="standard"),
        sa.Column("account_manager", sa.String(500), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False, server_default=sa.false()),
        _ts("first_contact_at", nullable=True),
        _ts("last_contact_at", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("kind IN ('org', 'person')", name="ck_clients_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_clients"),
    )
    op.create_table(
        "contact_persons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("full_name", sa.String(500), nullable=True),
        sa.Column("position", sa.String(500), nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE",
                                name="fk_contact_persons_client_id_clients"),
        sa.PrimaryKeyConstraint("id", name="pk_contact_persons"),
    )
    op.create_index("ix_contact_persons_client_id", "contact_persons", ["client_id"])
    op.create_table(
        "identifiers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("raw", sa.String(512), nullable=False),
        sa.Column("extension", sa.String(40), nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE",
                                name="fk_identifiers_client_id_clients"),
        sa.ForeignKeyConstraint(["person_id"], ["contact_persons.id"], ondelete="SET NULL",
                                name="fk_identifiers_person_id_contact_persons"),
        sa.PrimaryKeyConstraint("id", name="pk_identifiers"),
        sa.UniqueConstraint("kind", "value", name="uq_identifiers_kind_value"),
    )
    op.create_index("ix_identifiers_client_id", "identifiers", ["client_id"])
    op.create_index("ix_identifiers_person_id", "identifiers", ["person_id"])
    op.create_table(
        "contact_history",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        _ts("occurred_at"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE",
                                name="fk_contact_history_client_id_clients"),
        sa.ForeignKeyConstraint(["person_id"], ["contact_persons.id"], ondelete="SET NULL",
                                name="fk_contact_history_person_id_contact_persons"),
        sa.PrimaryKeyConstraint("id", name="pk_contact_history"),
    )
    op.create_index("ix_contact_history_client_occurred", "contact_history", ["client_id", "occurred_at"])
    op.create_table(
        "identity_inbox",
        sa.Column("consumer", sa.String(64), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("consumer", "key", name="pk_identity_inbox"),
    )


def downgrade() -> None:
    op.drop_table("identity_inbox")
    op.drop_index("ix_contact_history_client_occurred", table_name="contact_history")
    op.drop_table("contact_history")
    op.drop_index("ix_identifiers_person_id", table_name="identifiers")
    op.drop_index("ix_identifiers_client_id", table_name="identifiers")
    op.drop_table("identifiers")
    op.drop_index("ix_contact_persons_client_id", table_name="contact_persons")
    op.drop_table("contact_persons")
    op.drop_table("clients")
