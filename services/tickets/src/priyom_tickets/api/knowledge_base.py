"""The console's knowledge base, through tickets to the portal: ``GET /api/v1/kb/search`` (the panel in the ticket
view) and ``POST /api/v1/tickets/{number}/kb-draft`` (a resolved ticket's answer as a draft article).

The console only talks to its own origin, so tickets passes both on (:mod:`.agent_forward`) with the agent's own
token: the portal checks it as it checks any staff token, answers a search with every visibility staff may read,
internal articles too, and records the agent as the draft's author. The agent puts a found article's link or
excerpt into the reply box; nothing is sent.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from priyom_kit import HttpClient

from ..kb_drafts import NothingToWriteUp, draft_from_ticket
from .agent_forward import forward
from .deps import ApiParts, Number, Parts, Session, Staff, ticket_or_404

router = APIRouter(prefix="/api/v1", tags=["knowledge base"])

#: The portal's refusal the console can show as it is (a query it does not take). Any other, a 401 too, is a 502:
#: the agent's token was good here, so the portal's refusal of it must not log the agent out of the console.
PASSED_ON = frozenset({422})


class KbHit(BaseModel):
    """One article found, as the portal's pinned search answers it."""

    id: int
    title: str = Field(max_length=500)
    snippet: str = Field(max_length=2000, description="The article's words around the query's, plain text")
    url: str = Field(max_length=2000, description="The article's page on the portal")


class KbResults(BaseModel):
    items: list[KbHit]


def portal_of(parts: ApiParts) -> HttpClient:
    if parts.portal is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "the knowledge base is not configured (TICKETS_PORTAL_URL is unset)")
    return parts.portal


@router.get("/kb/search", summary="Search the knowledge base from the console (through the portal, as the agent)",
            responses={503: {"description": "The portal is not configured, or unreachable"}})
async def search_kb(q: Annotated[str, Query(min_length=1, max_length=200, description="What the agent typed")],
                    _: Staff, parts: Parts, request: Request, language: Literal["ru", "en"] | None = None,
                    limit: Annotated[int, Query(ge=1, le=20)] = 10) -> KbResults:
    params: dict[str, str | int] = {"q": q, "limit": limit}
    if language:
        params["language"] = language
    answer = await forward(portal_of(parts), "the portal", request, "GET", "/api/v1/kb/search", params=params,
                           passed_on=PASSED_ON)
    return KbResults.model_validate(answer.json())


class DraftRequest(BaseModel):
    language: Literal["ru", "en"] = Field(default="ru", description="The article's language (the console's)")


class DraftArticle(BaseModel):
    id: int = Field(description="The draft's id in the portal")
    title: str
    url: str = Field(description="The article's page on the portal (open to readers once an editor publishes it)")


@router.post("/tickets/{number}/kb-draft", status_code=status.HTTP_201_CREATED,
             summary="Turn a resolved or closed ticket's resolution into a draft article in the portal (as the agent)",
             responses={409: {"description": "The ticket is not resolved or closed, or has no resolution text"},
                        503: {"description": "The portal is not configured, or unreachable"}})
async def draft_article(number: Number, body: DraftRequest, who: Staff, session: Session, parts: Parts,
                        request: Request) -> DraftArticle:
    portal = portal_of(parts)
    ticket = await ticket_or_404(session, parts, number, who)
    try:
        draft = draft_from_ticket(ticket)
    except NothingToWriteUp as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    # Internal and a draft: a ticket's words are written for one customer; an editor rewrites and publishes them.
    answer = await forward(portal, "the portal", request, "POST", "/api/v1/kb/articles", passed_on=PASSED_ON,
                           json={"title": draft.title, "body": draft.body, "visibility": "internal",
                                 "status": "draft", "category": "tickets", "language": body.language})
    return DraftArticle.model_validate(answer.json())
