"""The knowledge base's pages, rendered on the server: search (``/kb``) and articles (``/kb/{id}``).

Pages show the published articles their reader may see: the public ones to anyone, and the ``clients`` ones too
to a customer signed in to the account whose card has a contract or an SLA tier above the default (the session
cookie says so, :data:`.account_deps.PageReader`). A browser sends no staff token: staff read the rest through
the API. Feedback is a plain form post answered with a redirect back to the article.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import search_index, store
from ..articles import MAX_QUERY_CHARS, PUBLIC, SESSION_ID_PATTERN, Audience, SearchHit
from ..page_html import PAGE_HEADERS, article_page, not_found_page, search_page
from ..word_stems import snippet
from .account_deps import PageReader
from .dependencies import Parts, Session, client_address
from .kb import public_view

pages_router = APIRouter(tags=["knowledge base pages"], include_in_schema=False)

SESSION_ID = re.compile(SESSION_ID_PATTERN)
#: A feedback form's body is two short fields; anything longer is not from our page.
MAX_FORM_BYTES = 256


def _html(text: str, status_code: int = 200, reader: Audience = PUBLIC) -> HTMLResponse:
    """A page; one that shows more than the public articles is the signed-in reader's own, never cached."""
    private = {"Cache-Control": "private, no-store"} if reader != PUBLIC else {}
    return HTMLResponse(text, status_code=status_code, headers={**PAGE_HEADERS, **private})


@pages_router.get("/kb")
async def search_view(
    session: Session, parts: Parts, reader: PageReader, q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = ""
) -> HTMLResponse:
    if not q.strip():
        return _html(search_page("", None), reader=reader)
    rows = await search_index.search(session, search_index.Query(q, reader, limit=20))
    hits = [
        SearchHit(
            id=row.id, title=row.title, snippet=snippet(row.body_text, q), url=parts.article_url(row.id)
        )
        for row in rows
    ]
    return _html(search_page(q, hits), reader=reader)


@pages_router.get("/kb/{article_id}")
async def article_view(
    article_id: int, session: Session, parts: Parts, reader: PageReader, thanks: int = 0
) -> HTMLResponse:
    try:
        row = await store.article(session, article_id, reader)
    except store.ArticleNotFound:
        return _html(not_found_page(), status.HTTP_404_NOT_FOUND)
    return _html(article_page(public_view(row, parts), thanked=bool(thanks)), reader=reader)


@pages_router.post("/kb/{article_id}/feedback")
async def feedback_form(
    article_id: int, request: Request, session: Session, parts: Parts, reader: PageReader
) -> Response:
    body = await request.body()
    fields = parse_qs(body.decode("utf-8", "replace")) if len(body) <= MAX_FORM_BYTES else {}
    answer = fields.get("helped", [""])[0]
    # The account's new-request page offers articles with its form's key as the suggestion session.
    offered_in = fields.get("session", [""])[0]
    if answer not in ("yes", "no"):
        return Response("helped must be yes or no", status.HTTP_400_BAD_REQUEST, media_type="text/plain")
    if (wait := await parts.feedback_limits.wait_s(client_address(request))) is not None:
        return Response(
            "too much feedback from this address",
            status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
            media_type="text/plain",
        )
    try:
        async with session.begin():
            await store.article(session, article_id, reader)
            await store.count_feedback(session, article_id, answer == "yes")
            deflected = bool(answer == "yes" and SESSION_ID.match(offered_in)
                             and await store.note_deflection(session, offered_in, article_id))
    except store.ArticleNotFound:
        return _html(not_found_page(), status.HTTP_404_NOT_FOUND)
    parts.metrics.feedback.labels(answer).inc()
    if deflected:
        parts.metrics.deflections.inc()
    return RedirectResponse(f"/kb/{article_id}?thanks=1", status.HTTP_303_SEE_OTHER)
