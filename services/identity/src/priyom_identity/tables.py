"""The schema identity owns, in SQLAlchemy Core. Migrations in ``migrations/versions`` must match it
(``tests/test_store.py`` compares them), so change both together.

Shaped for the full client card, not just the foundation's matching: a card (organisation or person) has
contact persons, and identifiers belong to the card and, when known, to one person. ``UNIQUE(kind, value)``
makes "one identifier, one card" a database fact, which is also what keeps two concurrent first contacts
from the same address from creating two cards.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    true,
)

from priyom_kit.db import UtcDateTimeColumn, inbox_table, make_metadata

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
    Column("first_contact_at", UtcDateTimeColumn, nullable=True),
    Column("last_contact_at", UtcDateTimeColumn, nullable=True),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    Column("updated_at", UtcDateTimeColumn, nullable=False),
    # 0002: the rest of the card an agent completes.
    Column("legal_id", String(32), nullable=True),
    Column("region", String(100), nullable=True),
    Column("tags", JSON, nullable=False, server_default="[]"),
    Column("notes", Text, nullable=True),
    # 0005: where the client wants answers when their own channel has none (email, telegram; None: default).
    Column("reply_channel", String(32), nullable=True),
    # Lower-case copy of ``name`` for search: SQLite's lower() folds ASCII only, Cyrillic names need Python's.
    Column("search_name", String(500), nullable=True, index=True),
    CheckConstraint("kind IN ('org', 'person')", name="kind"),
)

contact_persons = Table(
    "contact_persons",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("client_id", Uuid, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("full_name", String(500), nullable=True),
    Column("position", String(500), nullable=True),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    # 0002: "representative" (may sign, order) or "consumer" (uses the services); erased_at after 152-FZ erasure.
    Column("role", String(32), nullable=True),
    Column("erased_at", UtcDateTimeColumn, nullable=True),
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
    Column("created_at", UtcDateTimeColumn, nullable=False),
    # 0002: the domain of an email, so "who at this company writes to us" is one indexed query.
    Column("domain", String(255), nullable=True, index=True),
    # 0004: mail to this address failed for good (a bounce reported by the email channel). Still matched.
    Column("undeliverable_at", UtcDateTimeColumn, nullable=True),
    Column("undeliverable_reason", String(500), nullable=True),
    # 0007: False for a claim (what a web form, a mail or the webhook said); it identifies no caller until an
    # agent confirms it or a channel proves it (see claims.py). Rows from before 0007 count as verified.
    Column("verified", Boolean, nullable=False, server_default=true()),
    # Who made it verified: "channel:<name>" for a proof, the agent's name for a confirmation.
    Column("verified_by", String(200), nullable=True),
    UniqueConstraint("kind", "value", name="uq_identifiers_kind_value"),
)

#: 0008: which confirmed organisation (a card of kind "org" a person confirmed) uses which mail domain, derived
#: from ``identifiers`` and ``clients`` by :func:`priyom_identity.organisation_domains.refresh` wherever either
#: changes. A new sender's colleague lookup reads one or two rows here instead of every address at the domain
#: (thousands of provisional cards at a busy domain made that lookup the costliest statement per contact).
organisation_domains = Table(
    "organisation_domains",
    metadata,
    Column("domain", String(255), primary_key=True),
    Column("client_id", Uuid, ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True, index=True),
)

contact_history = Table(
    "contact_history",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("client_id", Uuid, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Uuid, ForeignKey("contact_persons.id", ondelete="SET NULL"), nullable=True),
    Column("channel", String(32), nullable=False),
    Column("contact_id", Uuid, nullable=False, index=True),
    Column("occurred_at", UtcDateTimeColumn, nullable=False),
    Column("ticket_number", String(20), nullable=True),  # 0003: from ticket.created (2026-000123)
    Index("ix_contact_history_client_occurred", "client_id", "occurred_at"),
)

client_contracts = Table(
    "client_contracts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("client_id", Uuid, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("number", String(500), nullable=False),
    Column("service", String(500), nullable=True),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
)

#: What people did to cards that cannot be seen on the card afterwards (a merge, an erasure). No personal
#: data: ids, who, when, and counts, so the record itself survives an erasure request.
card_audit = Table(
    "card_audit",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("action", String(32), nullable=False),
    Column("client_id", Uuid, nullable=False, index=True),
    Column("other_id", Uuid, nullable=True, index=True),
    Column("actor", String(200), nullable=False),
    Column("at", UtcDateTimeColumn, nullable=False),
    Column("detail", JSON, nullable=False),
)

#: 0004: what undoing a merge needs: the merged-away card's row, the target's fields before the merge, and
#: the ids of the persons, identifiers, contracts and history rows that moved. Holds personal data (the
#: card's name and notes), so an erasure deletes the snapshots that concern the person.
card_merges = Table(
    "card_merges",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("target_id", Uuid, nullable=False, index=True),
    Column("source_id", Uuid, nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("merged_at", UtcDateTimeColumn, nullable=False),
    Column("source_card", JSON, nullable=False),
    Column("target_before", JSON, nullable=False),
    Column("moved", JSON, nullable=False),
    Column("undone_at", UtcDateTimeColumn, nullable=True),
)

inbox = inbox_table(metadata, "identity_inbox")

#: 0007: the mail we delivered, so a customer's answer quoting it (In-Reply-To / References) proves its From
#: address (mail_replies.py). Only a digest of the Message-ID with the recipient's address: no address in
#: clear, and nothing to find without the Message-ID, which only the recipient's mailbox has.
sent_mail = Table(
    "sent_mail",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("sent_at", UtcDateTimeColumn, nullable=False, index=True),
)

#: 0006: each erasure request, which is also the outbox of its ``person.erased`` / ``client.erased`` message:
#: written in the erasing transaction, published after the commit and again by a periodic resend until the
#: broker confirmed (``published_at``), so a crash between the commit and the publish loses nothing. The
#: message holds references only (contact ids, ticket numbers, identifier digests), no personal data.
erasure_requests = Table(
    "erasure_requests",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("person_id", Uuid, nullable=False, unique=True),
    Column("client_id", Uuid, nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("requested_at", UtcDateTimeColumn, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("message", JSON, nullable=False),
    Column("published_at", UtcDateTimeColumn, nullable=True),
    # What identity erased itself (counts per store), the first part of the report.
    Column("counts", JSON, nullable=False),
)

#: 0006: what each service reported it redacted for an erasure (``erasure.reported.v1``): counts, never data.
erasure_reports = Table(
    "erasure_reports",
    metadata,
    Column("erasure_id", Uuid, primary_key=True),
    Column("service", String(64), primary_key=True),
    Column("counts", JSON, nullable=False),
    Column("reported_at", UtcDateTimeColumn, nullable=False),
)
