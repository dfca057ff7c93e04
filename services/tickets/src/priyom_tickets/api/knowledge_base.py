"""``GET /api/v1/kb/search``: the console's knowledge-base panel, through tickets to the portal.

The console only talks to its own origin, so tickets passes the search on (:mod:`.agent_forward`) with the
agent's own token: the portal checks it as it checks any staff token and answers with every visibility staff may
read, internal articles too. The agent puts a found article's link or excerpt into the reply box; nothing is sent.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from priyom_kit import HttpClient

from .agent_forward import forward
from .deps import ApiParts, Parts, Staff

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])

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


@router.get("/search", summary="Search the knowledge base from the console (through the portal, as the agent)",
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
