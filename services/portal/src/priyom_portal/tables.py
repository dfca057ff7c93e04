"""The knowledge base in SQLAlchemy Core. ``migrations/versions`` must match it, so change both together.

* ``kb_articles``: each article as it stands now: the Markdown, the sanitised HTML and plain text made from
  it once when it is saved (pages and snippets never render on a read), who may see it, whether it is
  published, and the feedback counts.
* ``kb_revisions``: every saved state of every article (the first save is revision 1); the history is never
  rewritten, so an editor can always see who changed what.
* ``kb_suggestion_sessions``: one row per customer session that was offered articles while typing, and the
  article that helped, if one did: the deflection rate is the share of rows with one.

* ``portal_sign_in_codes``: each code sent to a customer signing in: its keyed hash (never the code), the
  identifier it went to, the card and person that identifier belongs to, when it expires, and the wrong
  entries so far.
* ``portal_sessions``: a signed-in customer: the keyed hash of the cookie's token (never the token), the card,
  the person and what they may see, the identifier they proved, and when the session ends.

The full-text index is not declared here because the two databases keep it differently
(:mod:`priyom_portal.search_index`): on PostgreSQL a ``tsvector`` column of ``kb_articles`` with a GIN index,
on SQLite an FTS5 table ``kb_fts`` of stemmed text; migration 0001 creates whichever the database has.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, Uuid, false

from priyom_kit.db import UtcDateTimeColumn, make_metadata

metadata = make_metadata()

kb_articles = Table(
    "kb_articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("category", String(100), nullable=False),
    Column("language", String(2), nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("helped", Integer, nullable=False, server_default="0"),
    Column("not_helped", Integer, nullable=False, server_default="0"),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTimeColumn, nullable=False),
    Column("published_at", UtcDateTimeColumn, nullable=True),
    Index("ix_kb_articles_status_visibility", "status", "visibility"),
)

kb_revisions = Table(
    "kb_revisions",
    metadata,
    Column("article_id", Integer, ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True),
    Column("revision", Integer, primary_key=True, autoincrement=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("category", String(100), nullable=False),
    Column("language", String(2), nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("edited_by", String(200), nullable=False),
    Column("edited_at", UtcDateTimeColumn, nullable=False),
)

kb_suggestion_sessions = Table(
    "kb_suggestion_sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("shown_at", UtcDateTimeColumn, nullable=False),
    Column("helped_article_id", Integer, nullable=True),
    Column("helped_at", UtcDateTimeColumn, nullable=True),
    Index("ix_kb_suggestion_sessions_shown_at", "shown_at"),
)

portal_sign_in_codes = Table(
    "portal_sign_in_codes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("code_hash", String(64), nullable=False),
    Column("identifier_kind", String(64), nullable=False),
    Column("identifier_value", String(320), nullable=False),
    Column("client_id", Uuid, nullable=False),
    Column("person_id", Uuid, nullable=True),
    Column("sees_organisation", Boolean, nullable=False),
    Column("reads_clients", Boolean, nullable=False, server_default=false()),
    Column("language", String(2), nullable=False),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    Column("expires_at", UtcDateTimeColumn, nullable=False, index=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("used_at", UtcDateTimeColumn, nullable=True),
)

portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("client_id", Uuid, nullable=False),
    Column("person_id", Uuid, nullable=True),
    Column("sees_organisation", Boolean, nullable=False),
    Column("reads_clients", Boolean, nullable=False, server_default=false()),
    Column("identifier_kind", String(64), nullable=False),
    Column("identifier_value", String(320), nullable=False),
    Column("language", String(2), nullable=False),
    Column("created_at", UtcDateTimeColumn, nullable=False),
    Column("expires_at", UtcDateTimeColumn, nullable=False, index=True),
    Column("ended_at", UtcDateTimeColumn, nullable=True),
)
