"""Bearer-token authentication with roles, for every authenticated HTTP API.

The foundation knows one principal, the admin seeded by ``PRIYOM_ADMIN_TOKEN``. Services that keep users
of their own (tickets: agents, supervisors) pass a richer :class:`Authenticator`; the route dependencies stay
the same.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Protocol

from fastapi import Depends, HTTPException, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a name for audit records and the roles that decide what they may do."""

    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)

    def has_any(self, roles: frozenset[Role]) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles & roles)


class Authenticator(Protocol):
    async def __call__(self, token: str) -> Principal | None: ...


def admin_token_authenticator(admin_token: SecretStr | None) -> Authenticator:
    """Accept only the admin token from the environment, compared in constant time."""

    async def authenticate(token: str) -> Principal | None:
        if admin_token is None:
            return None
        if secrets.compare_digest(token.encode(), admin_token.get_secret_value().encode()):
            return Principal(name="admin", roles=frozenset({Role.ADMIN}))
        return None

    return authenticate


_bearer = HTTPBearer(auto_error=False, description="Bearer token (PRIYOM_ADMIN_TOKEN seeds the admin)")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The authenticated caller, or 401. The app's authenticator lives in ``app.state.authenticator``."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bearer token required",
                            headers={"WWW-Authenticate": "Bearer"})
    authenticate: Authenticator = request.app.state.authenticator
    principal = await authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """Route dependency: the caller must hold one of ``roles`` (admins pass every check)."""
    wanted = frozenset(roles)

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_any(wanted):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires one of: {', '.join(sorted(wanted))}")
        return principal

    dependency.required_roles = wanted  # type: ignore[attr-defined]  # read by route_roles()
    return dependency


def route_roles(dependant: Dependant) -> frozenset[Role] | None:
    """The roles a route's dependencies require (admins always pass), or None for a public route."""
    for dependency in dependant.dependencies:
        wanted = getattr(dependency.call, "required_roles", None)
        if wanted is None:
            wanted = route_roles(dependency)
        if wanted is not None:
            return wanted
    return None
