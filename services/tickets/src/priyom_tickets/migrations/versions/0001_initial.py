"""Tickets, their messages and attachment references, and the consumer inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Timestamps are plain ``DateTime(timezone=True)`` here; the application's ``UtcDateTimeColumn`` only converts values
in Python and changes nothing in the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("number", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=512), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("first_contact", sa.Boolean(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=500), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=500), nullable=False),
        sa.Column("assignee", sa.String(length=500), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("routing_reason", sa.String(length=500), nullable=False),
        sa.Column("first_response_due_at", UTC_TIME, nullable=False),
        sa.Column("resolution_due_at", UTC_TIME, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_tickets")),
        sa.UniqueConstraint("channel", "idempotency_key", name=op.f("uq_tickets_channel_idempotency_key")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_tickets_contact_id")),
        sa.UniqueConstraint("id", name=op.f("uq_tickets_id")),
        sqlite_autoincrement=True,
    )
    for column in ("assignee", "client_id", "status", "team"):
        op.create_index(op.f(f"ix_tickets_{column}"), "tickets", [column])

    op.create_table(
        "tickets_inbox",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("processed_at", UTC_TIME, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "key", name=op.f("pk_tickets_inbox")),
    )

    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_number", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("author_name", sa.String(length=500), nullable=True),
        sa.Column("sender", sa.JSON(), nullable=True),
        sa.Column("thread", sa.JSON(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["ticket_number"], ["tickets.number"], ondelete="CASCADE",
                                name=op.f("fk_ticket_messages_ticket_number_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_messages")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_ticket_messages_contact_id")),
    )
    op.create_index(op.f("ix_ticket_messages_ticket_number"), "ticket_messages",
                    ["ticket_number", "created_at"])

    op.create_table(
        "ticket_attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["ticket_messages.id"], ondelete="CASCADE",
                                name=op.f("fk_ticket_attachments_message_id_ticket_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_attachments")),
    )
    op.create_index(op.f("ix_ticket_attachments_message_id"), "ticket_attachments", ["message_id"])


def downgrade() -> None:
    op.drop_table("ticket_attachments")
    op.drop_table("ticket_messages")
    op.drop_table("tickets_inbox")
    op.drop_table("tickets")
