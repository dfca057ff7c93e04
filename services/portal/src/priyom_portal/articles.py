"""The knowledge base's vocabulary: who may see an article, whether it is out, and what the API exchanges.

Visibility follows the groups of readers the support site has: ``public`` (anyone), ``clients`` (customers
with a contract or SLA tier, once they log in to the portal; until then staff only) and ``internal`` (staff).
A draft is seen by staff alone, whatever its visibility.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: The longest article body accepted, in characters (a long manual is about 60,000).
MAX_BODY_CHARS = 100_000
#: The longest search query read, in characters; the rest is ignored.
MAX_QUERY_CHARS = 200


class Visibility(StrEnum):
    PUBLIC = "public"
    CLIENTS = "clients"
    INTERNAL = "internal"


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Language(StrEnum):
    RU = "ru"
    EN = "en"


@dataclass(frozen=True)
class Audience:
    """What one reader may see: the visibilities open to them, and whether drafts are."""

    visibilities: frozenset[Visibility]
    drafts: bool = False

    def sees(self, visibility: str, status: str) -> bool:
        return visibility in self.visibilities and (self.drafts or status == Status.PUBLISHED)


#: Anyone, without logging in.
PUBLIC = Audience(frozenset({Visibility.PUBLIC}))
#: A signed-in customer whose card has a contract or an SLA tier above the default.
CLIENTS = Audience(frozenset({Visibility.PUBLIC, Visibility.CLIENTS}))
#: Staff reading the published base (search): every visibility.
STAFF = Audience(frozenset(Visibility))
#: Staff editing: drafts too.
EDITORS = Audience(frozenset(Visibility), drafts=True)

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ArticleIn(BaseModel):
    """An article as an editor writes it (``POST`` creates it, ``PUT`` saves a new revision of it). Without
    ``visibility`` and ``status`` an article is an internal draft: nothing reaches customers by omission."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    body: str = Field(
        min_length=1,
        max_length=MAX_BODY_CHARS,
        description="Markdown (CommonMark and tables; raw HTML is shown as text)",
    )
    visibility: Visibility = Visibility.INTERNAL
    status: Status = Status.DRAFT
    category: Category = "general"
    language: Language = Language.RU


class PublicArticle(BaseModel):
    """An article as a reader sees it."""

    id: int
    title: str
    html: str = Field(description="The body rendered from Markdown and sanitised")
    category: str
    language: Language
    visibility: Visibility
    status: Status
    revision: int
    updated_at: datetime
    url: str


class Article(PublicArticle):
    """An article as staff see it: the Markdown, the editors and the feedback too."""

    body: str
    helped: int
    not_helped: int
    created_by: str
    created_at: datetime
    updated_by: str
    published_at: datetime | None


class Revision(BaseModel):
    """One saved state of an article."""

    revision: int
    title: str
    body: str
    category: str
    language: Language
    visibility: Visibility
    status: Status
    edited_by: str
    edited_at: datetime


class SearchHit(BaseModel):
    id: int
    title: str
    snippet: str
    url: str


class SearchResults(BaseModel):
    items: list[SearchHit]


#: A browser's suggestion session: an opaque id the form makes up once per page.
#: A form page's random id, the suggestion session the deflection rate counts.
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
SessionId = Annotated[str, StringConstraints(pattern=SESSION_ID_PATTERN)]


class FeedbackIn(BaseModel):
    """ "This helped" or "this did not help" about one article; ``session`` when the article was a suggestion
    the form offered while the customer typed (the deflection rate counts those)."""

    model_config = ConfigDict(extra="forbid")

    helped: bool
    session: SessionId | None = None


class FeedbackCounts(BaseModel):
    helped: int
    not_helped: int
