"""intake-messenger's own small state: the journal of replies delivered (see :mod:`priyom_kit.adapters.journal`).

The messenger keeps no conversation state (the topic travels in the prompt, the ticket number in the survey's
buttons); what it must remember across a restart is which replies already reached a customer, so a reply
redelivered after a crash is not sent to the chat a second time, and which contact each Telegram album part
went out in, so a part that arrives later is never folded into a contact already published (its content
would be dropped as a repeat). The website chat keeps its visitors (a hash of each visitor's token, never the
token) and their conversation, so a visitor who comes back sees it, and an agent's reply that arrives while
the visitor is away waits for them. ``migrations/versions`` creates them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import JSON, Boolean, Column, Index, String, Table, Text

from priyom_kit import db
from priyom_kit.adapters.journal import delivery_journal_table

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_intake_messenger"

metadata = db.make_metadata()
deliveries = delivery_journal_table(metadata)

#: Each album part (a digest of its text and file ids) and the key of the contact it went out in.
album_parts = Table(
    "telegram_album_parts",
    metadata,
    Column("album", String(200), primary_key=True),
    Column("part", String(64), primary_key=True),
    Column("contact_key", String(300), nullable=False),
    Column("recorded_at", db.UtcDateTimeColumn, nullable=False),
)


#: A website chat visitor: the hash of the token the widget holds (and of the one before, rotated on each visit).
chat_visitors = Table(
    "chat_visitors",
    metadata,
    Column("visitor_id", String(32), primary_key=True),
    Column("site", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("previous_hash", String(64), nullable=True, index=True),
    Column("created_at", db.UtcDateTimeColumn, nullable=False),
    Column("seen_at", db.UtcDateTimeColumn, nullable=False),
)

#: The conversation: what the visitor sent (``in``, under the widget's own message id) and what reached them
#: (``out``, under the reply id). ``files`` are the names shown; ``blobs`` the blob keys of an answer's files,
#: in the same order, which the visitor downloads by the reply's id (``chat/files.py``).
chat_messages = Table(
    "chat_messages",
    metadata,
    Column("visitor_id", String(32), primary_key=True),
    Column("direction", String(3), primary_key=True),
    Column("message_id", String(64), primary_key=True),
    Column("body", Text, nullable=False),
    Column("files", JSON, nullable=False),
    Column("blobs", JSON, nullable=False),
    Column("ticket_number", String(20), nullable=True),
    Column("survey", Boolean, nullable=False),
    Column("created_at", db.UtcDateTimeColumn, nullable=False),
    Index("ix_chat_messages_visitor_time", "visitor_id", "created_at"),
)


def migrate_database(url: db.DatabaseUrl) -> None:
    """Upgrade ``url`` to the newest schema (``python -m priyom_intake_messenger migrate``, and tests)."""
    db.upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)
