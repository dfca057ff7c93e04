"""Human numbers (``2026-000123``), the lifecycle columns, the audit history, threading keys and the outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The integer ``number`` becomes the internal ``seq`` (the key messages point at); the human number is a new
string column, back-filled for existing tickets by their registration year in UTC and their order. Columns are
renamed and added with plain ALTERs rather than batch copies: on SQLite a batch copy drops and recreates
``tickets``, and with foreign keys on, dropping it would cascade to every message.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute("ALTER TABLE tickets RENAME COLUMN number TO seq")
    op.drop_index("ix_ticket_messages_ticket_number", table_name="ticket_messages")
    op.execute("ALTER TABLE ticket_messages RENAME COLUMN ticket_number TO ticket_seq")
    op.create_index(op.f("ix_ticket_messages_ticket_seq"), "ticket_messages", ["ticket_seq", "created_at"])

    # NOT NULL with a default is the one way SQLite adds a required column without copying the table.
    op.add_column("tickets", sa.Column("number", sa.String(length=16), nullable=False, server_default=""))
    for name, kind in (("decision", sa.String(length=64)), ("decision_text", sa.Text()), ("result", sa.Text()),
                       ("status_changed_at", UTC_TIME), ("first_responded_at", UTC_TIME),
                       ("resolved_at", UTC_TIME), ("closed_at", UTC_TIME)):
        op.add_column("tickets", sa.Column(name, kind, nullable=True))
    for name, kind in (("thread_key", sa.String(length=512)), ("external_message_id", sa.String(length=998)),
                       ("reply_id", sa.Uuid()), ("kind", sa.String(length=16)),
                       ("delivery_status", sa.String(length=16)), ("delivery_detail", sa.String(length=2000))):
        op.add_column("ticket_messages", sa.Column(name, kind, nullable=True))
    op.create_index(op.f("ix_ticket_messages_thread_key"), "ticket_messages", ["thread_key"])
    op.create_index(op.f("ix_ticket_messages_external_message_id"), "ticket_messages", ["external_message_id"])
    op.create_index(op.f("ix_ticket_messages_reply_id"), "ticket_messages", ["reply_id"], unique=True)

    years = op.create_table(
        "ticket_number_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_ticket_number_years")),
    )
    _backfill_numbers(years)
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("tickets", "number", server_default=None)
    op.create_index(op.f("ix_tickets_number"), "tickets", ["number"], unique=True)

    op.create_table(
        "ticket_history",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("ticket_seq", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("actor", sa.String(length=500), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_seq"], ["tickets.seq"], ondelete="CASCADE",
                                name=op.f("fk_ticket_history_ticket_seq_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_history")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_ticket_history_ticket_seq"), "ticket_history", ["ticket_seq", "at"])

    op.create_table(
        "ticket_outbox",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("published_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_outbox")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_ticket_outbox_published_at"), "ticket_outbox", ["published_at"])


def _backfill_numbers(years: sa.Table) -> None:
    bind = op.get_bind()
    tickets = sa.table("tickets", sa.column("seq", sa.Integer()), sa.column("number", sa.String()),
                       sa.column("created_at", UTC_TIME))
    counts: dict[int, int] = {}
    for seq, created_at in bind.execute(sa.select(tickets.c.seq, tickets.c.created_at).order_by(tickets.c.seq)):
        year = created_at.year  # UTC: stored so, and SQLite returns the naive UTC value
        counts[year] = counts.get(year, 0) + 1
        bind.execute(tickets.update().where(tickets.c.seq == seq).values(number=f"{year:04d}-{counts[year]:06d}"))
    if counts:
        bind.execute(years.insert(), [{"year": y, "last": n} for y, n in counts.items()])


def downgrade() -> None:
    op.drop_table("ticket_outbox")
    op.drop_table("ticket_history")
    op.drop_index(op.f("ix_tickets_number"), table_name="tickets")
    op.drop_table("ticket_number_years")
    op.drop_index(op.f("ix_ticket_messages_reply_id"), table_name="ticket_messages")
    op.drop_index(op.f("ix_ticket_messages_external_message_id"), table_name="ticket_messages")
    op.drop_index(op.f("ix_ticket_messages_thread_key"), table_name="ticket_messages")
    for name in ("delivery_detail", "delivery_status", "kind", "reply_id", "external_message_id", "thread_key"):
        op.drop_column("ticket_messages", name)
    for name in ("closed_at", "resolved_at", "first_responded_at", "status_changed_at", "result",
                 "decision_text", "decision", "number"):
        op.drop_column("tickets", name)
    op.drop_index(op.f("ix_ticket_messages_ticket_seq"), table_name="ticket_messages")
    op.execute("ALTER TABLE ticket_messages RENAME COLUMN ticket_seq TO ticket_number")
    op.create_index(op.f("ix_ticket_messages_ticket_number"), "ticket_messages", ["ticket_number", "created_at"])
    op.execute("ALTER TABLE tickets RENAME COLUMN seq TO number")
