"""What the routes share, read from ``app.state.portal`` through ``Annotated`` dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_kit.auth import Authenticator, Role
from priyom_kit.db import Database
from priyom_kit.rate_windows import wait_s

from ..articles import PUBLIC, STAFF, Audience
from ..deflection import DeflectionMetrics

#: The roles that read internal articles and write any: every member of staff (admins pass every check).
STAFF_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR})


class FeedbackLimits:
    """Feedback per client address within moving windows, so a script cannot make an article "helpful".
    Counted in this process's memory: N processes allow N times the limit, which is enough for a counter."""

    def __init__(self, windows: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._windows = parse_many(windows)

    async def wait_s(self, address: str) -> int | None:
        return await wait_s(self._limiter, self._windows, "kb-feedback", [address])


@dataclass
class PortalParts:
    database: Database
    metrics: DeflectionMetrics
    feedback_limits: FeedbackLimits
    public_url: str = ""

    def article_url(self, article_id: int) -> str:
        return f"{self.public_url.rstrip('/')}/kb/{article_id}"


def _parts(request: Request) -> PortalParts:
    return request.app.state.portal


Parts = Annotated[PortalParts, Depends(_parts)]


async def _session(parts: Parts) -> AsyncIterator[AsyncSession]:
    async with parts.database.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(_session)]

_bearer = HTTPBearer(auto_error=False, description="A staff token (optional): internal articles too")


async def _audience(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Audience:
    """Anyone reads the public articles; a member of staff (checked as every service checks staff, at
    tickets) reads every visibility. A token that is sent but not valid is refused, not read as anonymous,
    so a member of staff whose token expired learns it instead of missing articles."""
    if credentials is None:
        return PUBLIC
    authenticate: Authenticator = request.app.state.authenticator
    principal = await authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid token", headers={"WWW-Authenticate": "Bearer"}
        )
    return STAFF if principal.has_any(STAFF_ROLES) else PUBLIC


Reader = Annotated[Audience, Depends(_audience)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
