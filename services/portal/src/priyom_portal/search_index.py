"""Full-text search of the knowledge base with Russian and English morphology, on either database.

PostgreSQL: a ``tsvector`` per article, built with the ``russian`` or ``english`` configuration after the
article's language (the ``russian`` one stems Latin words with the English stemmer too), the title weighted
above the body, a GIN index, ranked by ``ts_rank_cd``. A query is read with both configurations.

SQLite: an FTS5 table of the stems :mod:`priyom_portal.word_stems` makes (the same Snowball algorithms
PostgreSQL runs), ranked by BM25 with the title weighted above the body. A query is stemmed the same way.

Both take the query's words as :func:`~priyom_portal.word_stems.query_stems` keeps them, so a query of
stopwords alone finds nothing on either. ``every_word`` asks for articles with every word (the search page);
without it any word will do and the last word may be unfinished (suggestions while the customer types).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Row,
    String,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession

from .articles import Audience, Language
from .tables import kb_articles
from .word_stems import query_stems, stemmed_text, words

_fts = sql_table("kb_fts", column("rowid"), column("title"), column("body"))
_search_vector = literal_column("kb_articles.search_vector")
_PLAIN_WORD = re.compile(r"^[^\W_]{3,}$")
_POSTGRES_PUT = text(
    "UPDATE kb_articles SET search_vector ="
    " setweight(to_tsvector(CAST(CAST(:config AS text) AS regconfig), CAST(:title AS text)), 'A')"
    " || setweight(to_tsvector(CAST(CAST(:config AS text) AS regconfig), CAST(:body AS text)), 'B') WHERE id = :id"
)


@dataclass(frozen=True)
class Query:
    """What one search asks for."""

    text: str
    audience: Audience
    limit: int = 10
    every_word: bool = True
    language: Language | None = None

    @property
    def unfinished_word(self) -> str | None:
        """The last word when it may still be being typed (no space after it): matched as a prefix."""
        found = words(self.text)
        if self.every_word or not found or self.text[-1:].isspace() or not _PLAIN_WORD.match(found[-1]):
            return None
        return found[-1]


def _visible(query: Query) -> list:
    conditions = [kb_articles.c.visibility.in_([v.value for v in query.audience.visibilities])]
    if not query.audience.drafts:
        conditions.append(kb_articles.c.status == "published")
    if query.language is not None:
        conditions.append(kb_articles.c.language == query.language.value)
    return conditions


_COLUMNS = (kb_articles.c.id, kb_articles.c.title, kb_articles.c.body_text)


def _config(language: str) -> str:
    return "russian" if language == Language.RU else "english"


async def put(session: AsyncSession, article_id: int, title: str, body_text: str, language: str) -> None:
    """Index (or index again) one article, in the caller's transaction."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(
            _POSTGRES_PUT, {"id": article_id, "config": _config(language), "title": title, "body": body_text}
        )
        return
    await session.execute(delete(_fts).where(_fts.c.rowid == article_id))
    await session.execute(
        insert(_fts).values(rowid=article_id, title=stemmed_text(title), body=stemmed_text(body_text))
    )


async def search(session: AsyncSession, query: Query) -> Sequence[Row]:
    """The best-ranked visible articles (id, title, body_text) for the query; none for an empty one."""
    stems = query_stems(query.text)
    if not stems:
        return []
    if session.bind.dialect.name == "postgresql":
        statement = _postgres(query)
    else:
        statement = _sqlite(query, stems)
    return (await session.execute(statement.limit(query.limit))).all()


def _sqlite(query: Query, stems: list[str]) -> object:
    terms = [f'"{s}"' for s in stems]  # stems are letters and digits only: nothing to escape
    if (unfinished := query.unfinished_word) is not None:
        terms.append(f'"{unfinished}"*')  # "принт" while «принтер» is being typed
    match = (" " if query.every_word else " OR ").join(terms)
    fts = literal_column("kb_fts")
    return (
        select(*_COLUMNS)
        .select_from(_fts.join(kb_articles, kb_articles.c.id == _fts.c.rowid))
        .where(fts.op("MATCH")(bindparam("match", match)), *_visible(query))
        .order_by(func.bm25(fts, 4.0, 1.0), kb_articles.c.id)
    )


def _tsquery(config: str, every_word: bool) -> object:
    plain = func.plainto_tsquery(cast(literal(config, String), REGCONFIG), bindparam("q", type_=String))
    if every_word:
        return plain
    # plainto_tsquery joins the words with "&": any of them will do, so join them with "|" instead.
    return cast(func.replace(cast(plain, String), " & ", " | "), TSQUERY)


def _postgres(query: Query) -> object:
    tsquery = _tsquery("russian", query.every_word).op("||")(_tsquery("english", query.every_word))
    if (unfinished := query.unfinished_word) is not None:
        prefix = func.to_tsquery(cast(literal("simple", String), REGCONFIG), unfinished + ":*")
        tsquery = tsquery.op("||")(prefix)
    return (
        select(*_COLUMNS)
        .where(_search_vector.op("@@")(tsquery), *_visible(query))
        .order_by(func.ts_rank_cd(_search_vector, tsquery).desc(), kb_articles.c.id)
        .params(q=query.text)
    )
