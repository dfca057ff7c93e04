"""The console's knowledge-base editor, through tickets to the portal: the articles (drafts too), one article, a
new one, a new revision of one, and an article's history.

As the search panel (:mod:`.knowledge_base`), every call goes on with the agent's own token, so the portal decides
who edits (staff) and records the agent as the revision's editor. The answers are the portal's pinned API's
(``/api/v1/kb/articles``; its OpenAPI describes them), passed on as they are: the portal owns the article's shape,
and a copy of it here would drift. What the editor sends is checked by the portal too (its 422 comes back as is).
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, Response, status

from .agent_forward import forward
from .deps import Parts, Staff
from .knowledge_base import portal_of

router = APIRouter(prefix="/api/v1/kb/articles", tags=["knowledge base"])

#: The portal's refusals the editor shows as they are: an article that is not there, an article it refuses.
PASSED_ON = frozenset({404, 422})

#: The most an article may weigh on its way (the portal takes 100,000 characters of Markdown, up to 4 bytes each).
MAX_ARTICLE_BYTES = 450_000

ArticleId = Annotated[int, Path(description="The article's id in the portal")]
ArticleBody = Annotated[dict[str, Any], Body(description="The portal's ArticleIn: title, body (Markdown), "
                                                        "visibility, status, category, language")]
_UNAVAILABLE = {503: {"description": "The portal is not configured, or unreachable"}}


def _capped(request: Request) -> None:
    """An article past the portal's own limit is refused here, before its body is read."""
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > MAX_ARTICLE_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"an article is at most {MAX_ARTICLE_BYTES} bytes")


def _json(answer: Any, code: int = status.HTTP_200_OK) -> Response:
    return Response(answer.content, status_code=code, media_type="application/json")


@router.get("", summary="The knowledge base's articles, drafts too, newest id first by pages (through the portal)",
            responses=_UNAVAILABLE)
async def list_articles(_: Staff, parts: Parts, request: Request,
                        status_: Annotated[Literal["draft", "published"] | None, Query(alias="status")] = None,
                        after: Annotated[int, Query(ge=0)] = 0,
                        limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Response:
    params: dict[str, str | int] = {"after": after, "limit": limit}
    if status_:
        params["status"] = status_
    return _json(await forward(portal_of(parts), "the portal", request, "GET", "/api/v1/kb/articles",
                               params=params, passed_on=PASSED_ON))


@router.get("/{article_id}", summary="One article as staff see it (through the portal)", responses=_UNAVAILABLE)
async def read_article(article_id: ArticleId, _: Staff, parts: Parts, request: Request) -> Response:
    return _json(await forward(portal_of(parts), "the portal", request, "GET", f"/api/v1/kb/articles/{article_id}",
                               passed_on=PASSED_ON))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Write an article (through the portal, as the agent)",
             responses=_UNAVAILABLE, dependencies=[Depends(_capped)])
async def create_article(article: ArticleBody, _: Staff, parts: Parts, request: Request) -> Response:
    return _json(await forward(portal_of(parts), "the portal", request, "POST", "/api/v1/kb/articles",
                               json=article, passed_on=PASSED_ON), status.HTTP_201_CREATED)


@router.put("/{article_id}", summary="Save a new revision of an article (through the portal, as the agent)",
            responses=_UNAVAILABLE, dependencies=[Depends(_capped)])
async def save_article(article_id: ArticleId, article: ArticleBody, _: Staff, parts: Parts,
                       request: Request) -> Response:
    return _json(await forward(portal_of(parts), "the portal", request, "PUT", f"/api/v1/kb/articles/{article_id}",
                               json=article, passed_on=PASSED_ON))


@router.get("/{article_id}/revisions", summary="An article's history, newest first (through the portal)",
            responses=_UNAVAILABLE)
async def article_revisions(article_id: ArticleId, _: Staff, parts: Parts, request: Request) -> Response:
    return _json(await forward(portal_of(parts), "the portal", request, "GET",
                               f"/api/v1/kb/articles/{article_id}/revisions", passed_on=PASSED_ON))
