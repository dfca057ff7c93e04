"""The schema identity owns, in SQLAlchemy Core. Migrations in ``migrations/versions`` must match it
(``tests/test_store.py`` compares them), so change both together.

Shaped for the full client card, not just the foundation's matching: a card (organisation or person) has
contact persons, and identifiers belong to the card and, when known, to one person. ``UNIQUE(kind, value)``
makes "one identifier, one card" a database fact, which is also what keeps two concurrent first contacts
from the same address from creating two cards.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    false,
)

from priyom_kit.db import UtcDateTime, inbox_table, make_metadata

metadata = make_metadata()


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
