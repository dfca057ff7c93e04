"""The knowledge base's JSON API: staff write articles, anyone searches the public ones.

``POST /api/v1/kb/articles`` and ``GET /api/v1/kb/search`` are pinned (issue 20): their shapes do not change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy import Row

from priyom_kit.auth import Principal, require_roles

from .. import search_index, store
from ..articles import (
    EDITORS,
    MAX_QUERY_CHARS,
    STAFF,
    Article,
    ArticleIn,
    FeedbackCounts,
    FeedbackIn,
    Language,
    PublicArticle,
    Revision,
    SearchHit,
    SearchResults,
    SessionId,
    Status,
)
from ..word_stems import snippet
from .account_deps import PageReader
from .dependencies import STAFF_ROLES, Parts, PortalParts, Reader, Session, client_address

Editor = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
SearchText = Annotated[
    str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="What the reader typed")
]

kb_router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])


def public_view(row: Row, parts: PortalParts) -> PublicArticle:
    return PublicArticle(
        id=row.id,
        title=row.title,
        html=row.body_html,
        category=row.category,
        language=row.language,
        visibility=row.visibility,
        status=row.status,
        revision=row.revision,
        updated_at=row.updated_at,
        url=parts.article_url(row.id),
    )


def staff_view(row: Row, parts: PortalParts) -> Article:
    return Article(
        **public_view(row, parts).model_dump(),
        body=row.body,
        helped=row.helped,
        not_helped=row.not_helped,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        published_at=row.published_at,
    )


def _not_found(article_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no article {article_id}")


@kb_router.post("/articles", status_code=status.HTTP_201_CREATED, summary="Write an article (staff)")
async def create_article(draft: ArticleIn, editor: Editor, session: Session, parts: Parts) -> Article:
    async with session.begin():
        article_id = await store.save_article(session, draft, editor.name)
        row = await store.article(session, article_id, EDITORS)
    return staff_view(row, parts)


@kb_router.get("/articles", summary="Every article, drafts too (staff)")
async def list_articles(
    _: Editor,
    session: Session,
    parts: Parts,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    after: int = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Article]:
    return [
        staff_view(row, parts)
        for row in await store.articles(session, status=status_, limit=limit, after_id=after)
    ]


@kb_router.put("/articles/{article_id}", summary="Save a new revision of an article (staff)")
async def update_article(
    article_id: int, draft: ArticleIn, editor: Editor, session: Session, parts: Parts
) -> Article:
    try:
        async with session.begin():
            await store.save_article(session, draft, editor.name, article_id)
            row = await store.article(session, article_id, EDITORS)
    except store.ArticleNotFound:
        raise _not_found(article_id) from None
    return staff_view(row, parts)


@kb_router.get("/articles/{article_id}", summary="One article (staff see drafts and every visibility)")
async def read_article(
    article_id: int, reader: Reader, session: Session, parts: Parts
) -> Article | PublicArticle:
    try:
        row = await store.article(session, article_id, EDITORS if reader is STAFF else reader)
    except store.ArticleNotFound:
        raise _not_found(article_id) from None
    return staff_view(row, parts) if reader is STAFF else public_view(row, parts)


@kb_router.get("/articles/{article_id}/revisions", summary="An article's history, newest first (staff)")
async def article_revisions(article_id: int, _: Editor, session: Session) -> list[Revision]:
    rows = await store.revisions(session, article_id)
    if not rows:
        raise _not_found(article_id)
    return [Revision.model_validate(row, from_attributes=True) for row in rows]


async def search_hits(session: Session, parts: PortalParts, query: search_index.Query) -> SearchResults:
    """The articles ``query`` finds, with their snippets and addresses (the API's, and the new-request page's)."""
    rows = await search_index.search(session, query)
    return SearchResults(
        items=[
            SearchHit(
                id=row.id,
                title=row.title,
                snippet=snippet(row.body_text, query.text),
                url=parts.article_url(row.id),
            )
            for row in rows
        ]
    )


@kb_router.get("/search", summary="Search the published articles (no login: the public ones)")
async def search(
    q: SearchText,
    reader: Reader,
    session: Session,
    parts: Parts,
    language: Language | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchResults:
    return await search_hits(session, parts, search_index.Query(q, reader, limit=limit, language=language))


@kb_router.get("/suggest", summary="Articles to offer while a customer types a request")
async def suggest(
    q: SearchText,
    reader: PageReader,
    session: Session,
    parts: Parts,
    response: Response,
    session_id: Annotated[SessionId | None, Query(alias="session")] = None,
    language: Language | None = None,
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
) -> SearchResults:
    """Any of the words will do and the last one may be unfinished. With ``session`` (the form's page id),
    a session offered articles counts towards the deflection rate. The public articles, and the clients' too
    for a signed-in customer of that group (the account's new-request page, whose cookie comes along; the web
    form on its own origin sends none)."""
    results = await search_hits(
        session, parts, search_index.Query(q, reader, limit=limit, every_word=False, language=language)
    )
    parts.metrics.suggestions.labels("yes" if results.items else "no").inc()
    if results.items and session_id is not None:
        await store.note_suggestions_shown(session, session_id)
        await session.commit()
    response.headers["Cache-Control"] = "no-store"
    return results


@kb_router.post("/articles/{article_id}/feedback", summary='"This helped" or "this did not help" (no login)')
async def feedback(
    article_id: int, answer: FeedbackIn, request: Request, reader: Reader, session: Session, parts: Parts
) -> FeedbackCounts:
    if (wait := await parts.feedback_limits.wait_s(client_address(request))) is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too much feedback from this address",
            headers={"Retry-After": str(wait)},
        )
    try:
        async with session.begin():
            await store.article(session, article_id, reader)
            helped, not_helped = await store.count_feedback(session, article_id, answer.helped)
            deflected = bool(
                answer.helped
                and answer.session
                and await store.note_deflection(session, answer.session, article_id)
            )
    except store.ArticleNotFound:
        raise _not_found(article_id) from None
    parts.metrics.feedback.labels("yes" if answer.helped else "no").inc()
    if deflected:
        parts.metrics.deflections.inc()
    return FeedbackCounts(helped=helped, not_helped=not_helped)
