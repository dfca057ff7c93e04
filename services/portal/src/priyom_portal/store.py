"""The knowledge base's storage: articles with their revisions and index entries, feedback, and migrations.

Every change of an article goes through :func:`save_article`, which writes the article, its revision and its
index entry in the caller's transaction, so a search never finds a text the history does not have.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import utcnow
from priyom_kit import db

from . import search_index
from .articles import ArticleIn, Audience, Status
from .markdown_render import plain_text, render_markdown
from .tables import kb_articles, kb_revisions, kb_suggestion_sessions, metadata

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_portal"

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "metadata", "migrate_database"]


def migrate_database(url: db.DatabaseUrl) -> None:
    """Upgrade ``url`` to the newest schema (``python -m priyom_portal migrate``, and tests)."""
    db.upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)


class ArticleNotFound(LookupError):
    """No article with that id, or none this reader may see (the two are one answer: 404)."""


async def save_article(
    session: AsyncSession, draft: ArticleIn, editor: str, article_id: int | None = None
) -> int:
    """Create an article (``article_id`` None) or save a new revision of one; returns its id."""
    now = utcnow()
    rendered = render_markdown(draft.body)
    values = {
        "title": draft.title,
        "body": draft.body,
        "body_html": rendered,
        "body_text": plain_text(rendered),
        "category": draft.category,
        "language": draft.language.value,
        "visibility": draft.visibility.value,
        "status": draft.status.value,
        "updated_by": editor,
        "updated_at": now,
    }
    published_at = now if draft.status == Status.PUBLISHED else None
    if article_id is None:
        revision = 1
        article_id = (
            await session.execute(
                insert(kb_articles)
                .values(
                    **values, revision=revision, created_by=editor, created_at=now, published_at=published_at
                )
                .returning(kb_articles.c.id)
            )
        ).scalar_one()
    else:
        current = (
            await session.execute(
                select(kb_articles.c.revision, kb_articles.c.published_at)
                .where(kb_articles.c.id == article_id)
                .with_for_update()
            )
        ).first()
        if current is None:
            raise ArticleNotFound(article_id)
        revision = current.revision + 1
        # published_at: when it first went out; a draft again keeps it, so a re-publish shows the history.
        await session.execute(
            update(kb_articles)
            .where(kb_articles.c.id == article_id)
            .values(**values, revision=revision, published_at=current.published_at or published_at)
        )
    await session.execute(
        insert(kb_revisions).values(
            article_id=article_id,
            revision=revision,
            title=draft.title,
            body=draft.body,
            category=draft.category,
            language=draft.language.value,
            visibility=draft.visibility.value,
            status=draft.status.value,
            edited_by=editor,
            edited_at=now,
        )
    )
    await search_index.put(session, article_id, draft.title, values["body_text"], draft.language.value)
    return article_id


async def article(session: AsyncSession, article_id: int, audience: Audience) -> Row:
    """The article as stored, if this audience may see it; :class:`ArticleNotFound` otherwise."""
    row = (await session.execute(select(kb_articles).where(kb_articles.c.id == article_id))).first()
    if row is None or not audience.sees(row.visibility, row.status):
        raise ArticleNotFound(article_id)
    return row


async def articles(
    session: AsyncSession, *, status: Status | None = None, limit: int = 100, after_id: int = 0
) -> Sequence[Row]:
    """Every article (staff's list), oldest first, ``limit`` at a time after ``after_id``."""
    statement = select(kb_articles).where(kb_articles.c.id > after_id).order_by(kb_articles.c.id).limit(limit)
    if status is not None:
        statement = statement.where(kb_articles.c.status == status.value)
    return (await session.execute(statement)).all()


async def revisions(session: AsyncSession, article_id: int) -> Sequence[Row]:
    """An article's history, newest first (empty for an unknown article)."""
    return (
        await session.execute(
            select(kb_revisions)
            .where(kb_revisions.c.article_id == article_id)
            .order_by(kb_revisions.c.revision.desc())
        )
    ).all()


async def count_feedback(session: AsyncSession, article_id: int, helped: bool) -> tuple[int, int]:
    """Add one "helped" or "did not help" to a (visible, checked by the caller) article; the new counts."""
    counter = kb_articles.c.helped if helped else kb_articles.c.not_helped
    row = (
        await session.execute(
            update(kb_articles)
            .where(kb_articles.c.id == article_id)
            .values({counter: counter + 1})
            .returning(kb_articles.c.helped, kb_articles.c.not_helped)
        )
    ).first()
    if row is None:
        raise ArticleNotFound(article_id)
    return row.helped, row.not_helped


# -- deflection ---------------------------------------------------------------------------------------------


async def note_suggestions_shown(session: AsyncSession, session_id: str) -> bool:
    """Record that a customer's form session was offered articles; True the first time."""
    insert_ = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert_(kb_suggestion_sessions)
        .values(session_id=session_id, shown_at=utcnow())
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)


async def note_deflection(session: AsyncSession, session_id: str, article_id: int) -> bool:
    """Record that an article offered in this session helped; True the first time (one per session), False
    for a session that was never offered anything (feedback from elsewhere is not a deflection)."""
    result = await session.execute(
        update(kb_suggestion_sessions)
        .where(
            kb_suggestion_sessions.c.session_id == session_id, kb_suggestion_sessions.c.helped_at.is_(None)
        )
        .values(helped_article_id=article_id, helped_at=utcnow())
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class DeflectionCounts:
    sessions: int
    deflected: int

    @property
    def rate(self) -> float:
        return self.deflected / self.sessions if self.sessions else 0.0


async def deflection_counts(session: AsyncSession, since: datetime | timedelta) -> DeflectionCounts:
    """Sessions offered articles since then, and how many of them an article helped."""
    start = utcnow() - since if isinstance(since, timedelta) else since
    row = (
        await session.execute(
            select(func.count(), func.count(kb_suggestion_sessions.c.helped_at)).where(
                kb_suggestion_sessions.c.shown_at >= start
            )
        )
    ).one()
    return DeflectionCounts(sessions=row[0], deflected=row[1])
