"""The schema identity owns, in SQLAlchemy Core. Migrations in ``migrations/versions`` must match it
(``tests/test_store.py`` compares them), so change both together.

Shaped for the full client card, not just the foundation's matching: a card (organisation or person) has
contact persons, and identifiers belong to the card and, when known, to one person. ``UNIQUE(kind, value)``
makes "one identifier, one card" a database fact, which is also what keeps two concurrent first contacts
from the same address from creating two cards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    false,
)

from priyom_kit.db import inbox_table

#: Named constraints: Alembic's batch mode on SQLite can only alter constraints it can name.
metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on both databases (SQLite keeps no offset and returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: identity stores aware UTC timestamps only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

clients = Table(
    "clients",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(500), nullable=False),
    Column("sla_tier", String(64), nullable=False, server_default="standard"),
    Column("account_manager", String(500), nullable=True),
    Column("provisional", Boolean, nullable=False, server_default=false()),
    Column("first_contact_at", UtcDateTime, nullable=True),
    Column("last_contact_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("kind IN ('org', 'person')", name="kind"),
)

contact_persons = Table(
    "contact_persons",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("client_id", Uuid, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("full_name", String(500), nullable=True),
    Column("position", String(500), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("client_id", Uuid, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("person_id", Uuid, ForeignKey("contact_persons.id", ondelete="SET NULL"), nullable=True,
           index=True),
    Column("kind", String(64), nullable=False),
    Column("value", String(320), nullable=False),
    Column("raw", String(512), nullable=False),
    Column("extension", String(40), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("kind", "value", name="uq_identifiers_kind_value"),
)

contact_history = Table(
    "contact_history",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("client_id", Uuid, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Uuid, ForeignKey("contact_persons.id", ondelete="SET NULL"), nullable=True),
    Column("channel", String(32), nullable=False),
    Column("contact_id", Uuid, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Index("ix_contact_history_client_occurred", "client_id", "occurred_at"),
)

inbox = inbox_table(metadata, "identity_inbox")
