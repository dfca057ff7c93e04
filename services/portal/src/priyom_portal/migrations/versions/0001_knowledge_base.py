"""Knowledge base: articles, revisions, suggestion sessions, and the full-text index of the database in use.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("helped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("not_helped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_kb_articles"),
    )
    op.create_index("ix_kb_articles_status_visibility", "kb_articles", ["status", "visibility"])
    op.create_table(
        "kb_revisions",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("edited_by", sa.String(200), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            ondelete="CASCADE",
            name="fk_kb_revisions_article_id_kb_articles",
        ),
        sa.PrimaryKeyConstraint("article_id", "revision", name="pk_kb_revisions"),
    )
    op.create_table(
        "kb_suggestion_sessions",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("helped_article_id", sa.Integer(), nullable=True),
        sa.Column("helped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("session_id", name="pk_kb_suggestion_sessions"),
    )
    op.create_index("ix_kb_suggestion_sessions_shown_at", "kb_suggestion_sessions", ["shown_at"])
    if op.get_bind().dialect.name == "postgresql":
        # Filled by the portal with to_tsvector('russian' | 'english', …) per the article's language.
        op.execute("ALTER TABLE kb_articles ADD COLUMN search_vector tsvector")
        op.execute("CREATE INDEX ix_kb_articles_search_vector ON kb_articles USING gin (search_vector)")
    else:
        # Stemmed in Python (snowballstemmer), since SQLite's tokenizers stem no Russian; rowid = article id.
        op.execute("CREATE VIRTUAL TABLE kb_fts USING fts5(title, body, tokenize='unicode61')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE kb_fts")
    op.drop_index("ix_kb_suggestion_sessions_shown_at", table_name="kb_suggestion_sessions")
    op.drop_table("kb_suggestion_sessions")
    op.drop_table("kb_revisions")
    op.drop_index("ix_kb_articles_status_visibility", table_name="kb_articles")
    op.drop_table("kb_articles")
