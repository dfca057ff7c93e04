"""The tickets schema: every table the service owns (SQLAlchemy Core; SQLite and PostgreSQL alike). The
queries on them are in :mod:`.store`; the only writer of a ticket is :mod:`.changes`.

A ticket's ``number`` is what a customer quotes and an agent says on the phone: ``2026-000123``, the year of
registration and a gapless count within it. The count is a row per year in ``ticket_number_years``, bumped by
an upsert inside the registering transaction, so a rolled-back registration returns its number and two
concurrent ones queue on the row lock. ``seq`` is the internal key the other tables point at (an identity
column; it may skip values, which nobody sees) and the newest-first order of every list.

Messages hang off the ticket rather than the ticket holding "the" message, so the later lifecycle (replies,
follow-ups on the same thread) adds rows, not columns.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from priyom_kit.db import UtcDateTimeColumn, inbox_table, make_metadata, upgrade_database
from priyom_kit.outbox import outbox_table

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_tickets"

metadata = make_metadata()

tickets = Table(
    "tickets",
    metadata,
    Column("seq", Integer, Identity(), primary_key=True),
    Column("number", String(16), nullable=False),
    Column("id", Uuid, nullable=False, unique=True),
    # The contact that opened the ticket; later contacts on the same ticket live in ticket_messages.
    Column("contact_id", Uuid, nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("idempotency_key", String(512), nullable=False),
    Column("client_id", Uuid, nullable=False),
    Column("person_id", Uuid),
    Column("first_contact", Boolean, nullable=False),
    # Enumerations are stored as their values, not as database enums: a new status or type is a code change.
    Column("type", String(32), nullable=False),
    Column("category", String(500), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("team", String(500), nullable=False),
    Column("assignee", String(500)),
    Column("subject", Text),
    Column("routing_reason", String(500), nullable=False),
    Column("first_response_due_at", UtcDateTimeColumn, nullable=False),
    Column("resolution_due_at", UtcDateTimeColumn, nullable=False),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    Column("updated_at", UtcDateTimeColumn, nullable=False),
    # The lifecycle: the latest decision (a dictionary code and free text), the result, and the clocks.
    Column("decision", String(64)),
    Column("decision_text", Text),
    Column("result", Text),
    Column("status_changed_at", UtcDateTimeColumn),
    Column("first_responded_at", UtcDateTimeColumn),
    Column("resolved_at", UtcDateTimeColumn),
    Column("closed_at", UtcDateTimeColumn),
    # SLA: the tier the deadlines were computed for, when the scheduler found the ticket late, and the
    # escalation on record (team head, second line, an outside vendor) with whom it went to.
    Column("sla_tier", String(500)),
    Column("overdue_at", UtcDateTimeColumn),
    Column("escalation", String(32)),
    Column("escalated_to", String(500)),
    Column("escalated_at", UtcDateTimeColumn),
    # The client card's name as identity sent it (the queue shows it without asking identity per row).
    Column("client_name", String(500)),
    # What only some types need (type_fields.py): a complaint's claimed amount, a contract number, a budget.
    Column("type_fields", JSON),
    # A reply of ours bounced: the ticket is flagged until someone reaches the customer another way.
    Column("delivery_failed_at", UtcDateTimeColumn),
    # 0010: where the client can be answered (ClientMatch.reach, refreshed by every contact).
    Column("reach", JSON),
    UniqueConstraint("channel", "idempotency_key"),
    Index(None, "number", unique=True),
    Index(None, "status"),
    Index(None, "assignee"),
    Index(None, "team"),
    Index(None, "client_id"),
    Index(None, "resolution_due_at"),
    Index(None, "updated_at"),  # the consoles' live feed (live_feed.py)
    sqlite_autoincrement=True,
)

ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("ticket_seq", Integer, ForeignKey("tickets.seq", ondelete="CASCADE"), nullable=False),
    # Unique for inbound messages (one contact is one message); outbound replies have none.
    Column("contact_id", Uuid, unique=True),
    Column("direction", String(16), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("author_name", String(500)),
    # The sender as the channel gave it (email, phone, messenger id): where a reply will be delivered.
    Column("sender", JSON),
    # Reply headers and chat ids, so follow-ups can be threaded onto this ticket later.
    Column("thread", JSON),
    Column("subject", Text),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    # The adapter's conversation key (chat id, e-mail thread root): a follow-up carrying it joins this ticket.
    Column("thread_key", String(512)),
    # The channel's id of this message (inbound: its key; outbound: what the adapter reported it sent as),
    # which an e-mail reply names in In-Reply-To / References.
    Column("external_message_id", String(998)),
    # Outbound only: the reply's id on the bus, what it is (reply or notice), and what the adapter reported.
    Column("reply_id", Uuid),
    Column("kind", String(16)),
    Column("delivery_status", String(16)),
    Column("delivery_detail", String(2000)),
    # Inbound only: why no person wrote it (auto_reply, bounce, report, list); it never moves the ticket.
    Column("automated", String(16)),
    # 0010: why the channel could not read the message whole (the original is attached).
    Column("unread_reason", String(500)),
    # 0015, inbound e-mail: {"authenticated", "spf", "dkim", "dmarc", "authority"}, and the flag of a mail that
    # claims a known client's address without proof (sender_trust.py).
    Column("sender_auth", JSON),
    Column("sender_flag", String(32)),
    # 0017, outbound replies: the agent's Idempotency-Key, so a reply sent twice is stored and sent once.
    Column("reply_key", String(200)),
    Index(None, "ticket_seq", "created_at"),
    Index("ix_ticket_messages_reply_key", "ticket_seq", "reply_key", unique=True),
    Index(None, "thread_key"),
    Index(None, "external_message_id"),
    Index(None, "reply_id", unique=True),
)

#: The per-year counters behind the human numbers.
ticket_number_years = Table(
    "ticket_number_years",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last", Integer, nullable=False),
)

#: Every change to a ticket, in order: who, when, which action, from and to which status, and the details.
ticket_history = Table(
    "ticket_history",
    metadata,
    # A counter, not a UUID: lines written in one transaction share a timestamp and must keep their order.
    Column("id", Integer, Identity(), primary_key=True),
    Column("ticket_seq", Integer, ForeignKey("tickets.seq", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTimeColumn, nullable=False),
    Column("actor", String(500), nullable=False),
    Column("action", String(64), nullable=False),
    Column("from_status", String(32)),
    Column("to_status", String(32)),
    Column("details", JSON),
    Index(None, "ticket_seq", "at"),
    sqlite_autoincrement=True,
)

ticket_attachments = Table(
    "ticket_attachments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("message_id", Uuid, ForeignKey("ticket_messages.id", ondelete="CASCADE"), nullable=False),
    Column("blob_key", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Index(None, "message_id"),
)

#: Things to do about a ticket by a time: call back, meet, prepare a document, carry out a plan's task.
ticket_activities = Table(
    "ticket_activities",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("ticket_seq", Integer, ForeignKey("tickets.seq", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("title", String(500), nullable=False),
    Column("owner", String(500), nullable=False),
    Column("due_at", UtcDateTimeColumn, nullable=False),
    Column("done_at", UtcDateTimeColumn),
    Column("created_by", String(500), nullable=False),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    Column("updated_at", UtcDateTimeColumn, nullable=False),
    Index(None, "ticket_seq"),
    Index(None, "owner", "due_at"),
    Index(None, "due_at"),
)

#: 0022: the phone calls that became a ticket or a follow-up (call_log.py): how each ended, for the dashboard
#: and the ticket. No number is kept here: the caller is on the ticket's message, where erasure finds it.
ticket_calls = Table(
    "ticket_calls",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("ticket_seq", Integer, ForeignKey("tickets.seq", ondelete="CASCADE"), nullable=False),
    Column("call_id", String(128), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("agent", String(500)),
    Column("queue", String(500)),
    Column("started_at", UtcDateTimeColumn, nullable=False),
    Column("answered_at", UtcDateTimeColumn),
    Column("ended_at", UtcDateTimeColumn, nullable=False),
    Column("duration_s", Integer, nullable=False),
    Index(None, "started_at"),
    Index(None, "ticket_seq"),
    sqlite_autoincrement=True,
)

#: The customer's 1–5 rating of a closed ticket (satisfaction.py).
ticket_ratings = Table(
    "ticket_ratings",
    metadata,
    Column("ticket_seq", Integer, ForeignKey("tickets.seq", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("rating", SmallInteger, nullable=False),
    Column("comment", Text),
    Column("channel", String(32), nullable=False),
    Column("rated_at", UtcDateTimeColumn, nullable=False),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
)

#: 0016: identity's word on where a client can still be written to (card_reach.py), refreshed when a card
#: is flagged, merged or edited: the addresses mail no longer reaches and the card's other ways.
card_reach = Table(
    "card_reach",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("undeliverable", JSON, nullable=False),
    Column("emails", JSON, nullable=False),
    Column("messengers", JSON, nullable=False),
    Column("refreshed_at", UtcDateTimeColumn, nullable=False),
)

#: Staff accounts (staff.py); only the token's digest is kept.
staff = Table(
    "staff",
    metadata,
    Column("name", String(500), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("teams", JSON, nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    # The token stops working at its expiry, or when revoked (the account stays, its history too).
    Column("token_expires_at", UtcDateTimeColumn),
    Column("token_revoked_at", UtcDateTimeColumn),
    # The agent's phone extension: its ringing pops the caller's card up on their console (popups.py).
    Column("extension", String(32)),
    # How the console speaks to the agent (api/preferences.py): ru or en, and an IANA zone; NULL = the browser's.
    Column("locale", String(8)),
    Column("time_zone", String(64)),
    # 0024: where escalations that reach them are mailed (staff_notices.py); NULL = told on the console only.
    Column("email", String(320)),
    Index(None, "extension", unique=True),
)

#: One-time tickets for the agent's WebSocket (ws_tickets.py): hashed, valid a minute, deleted when redeemed.
ws_tickets = Table(
    "ws_tickets",
    metadata,
    Column("ticket_sha256", String(64), primary_key=True),
    Column("name", String(500), nullable=False),
    Column("admin", Boolean, nullable=False),
    Column("expires_at", UtcDateTimeColumn, nullable=False, index=True),
)

#: Agents' internal notes on a ticket (notes.py): never on the customer's thread, never sent, never public.
ticket_notes = Table(
    "ticket_notes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("ticket_seq", Integer, ForeignKey("tickets.seq", ondelete="CASCADE"), nullable=False),
    Column("author", String(500), nullable=False),
    Column("body", Text, nullable=False),
    # The staff names the note @mentions (each also has a row in staff_mentions).
    Column("mentions", JSON, nullable=False),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    Index("ix_ticket_notes_ticket_seq", "ticket_seq", "created_at"),
)

#: A note that @mentions a staff member, until they have seen it in their console (notes.py).
staff_mentions = Table(
    "staff_mentions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("staff_name", String(500), nullable=False),
    Column("note_id", Uuid, ForeignKey("ticket_notes.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    Column("seen_at", UtcDateTimeColumn),
    Index("ix_staff_mentions_staff_name", "staff_name", "seen_at"),
)

#: Macros and canned answers (macros.py): personal (``owner``), a team's (``team``) or ``shared``.
macros = Table(
    "macros",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("owner", String(500)),
    Column("team", String(500)),
    # The reply text with {{variables}}, and what applying the macro changes: a lifecycle action (with its
    # decision), the type, the type's fields. Each may be absent.
    Column("body", Text),
    Column("action", String(64)),
    Column("decision", String(64)),
    Column("set_type", String(32)),
    Column("fields", JSON),
    Column("created_by", String(500), nullable=False),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    Column("updated_at", UtcDateTimeColumn, nullable=False),
    Index("ix_macros_scope", "scope", "team", "owner"),
)

#: Events to publish, written in the transaction that caused them and sent after its commit (the kit's outbox).
ticket_outbox = outbox_table(metadata, "ticket_outbox")

inbox = inbox_table(metadata, "tickets_inbox")

#: Messages no consumer could process and what intakes could not read, kept for a person (dead_letters.py):
#: ``waiting`` until an admin replays (``replayed``) or discards (``discarded``) it, who, when and why in the
#: ``handled_*`` columns. ``fingerprint`` makes a second delivery of the same dead letter a no-op.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("failed_at", UtcDateTimeColumn, nullable=False),
    Column("kept_at", UtcDateTimeColumn, nullable=False),
    # x-failed-by: the service that gave up; source: the queue it gave up in, or the intake's source.
    Column("service", String(64)),
    Column("source", String(255), nullable=False),
    Column("channel", String(32)),
    Column("routing_key", String(255)),
    Column("message_type", String(64)),
    Column("message_id", String(255)),
    Column("correlation_id", String(255)),
    Column("content_type", String(255)),
    Column("error_kind", String(32)),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer),
    # What the list shows, decided when the letter is kept, so a page of them never reads the bodies: a
    # masked preview, and why the letter cannot be replayed (NULL: it can).
    Column("preview", String(200), nullable=False),
    Column("not_replayable", Text),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("handled_by", String(500)),
    Column("handled_at", UtcDateTimeColumn),
    Column("handled_note", Text),
    Index(None, "state", "failed_at"),
    sqlite_autoincrement=True,
)


def migrate_database(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (``python -m priyom_tickets migrate``)."""
    upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)
