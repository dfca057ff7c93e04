"""One verifier of bearer tokens for every service: the admin, the deployment's services, and staff.

Staff accounts live in tickets (hashed tokens with an expiry, revoked and rotated there). Every other
service used to accept only ``PRIYOM_ADMIN_TOKEN``, so its roles were unusable and services called each
other with the admin token. Now each service's API takes, in this order:

1. the admin token (``PRIYOM_ADMIN_TOKEN``): the admin role;
2. a service credential (``PRIYOM_SERVICE_TOKENS``, one per calling service): the *service* role only, which
   reads cards and internal exports but manages nothing;
3. a staff token, asked of tickets' ``GET /api/v1/me`` (``PRIYOM_STAFF_URL``) with the caller's own token, and
   trusted for ``PRIYOM_STAFF_CACHE_S`` seconds: a revoked or expired token stops working within that time.
   Only the token's SHA-256 is kept in the cache, and a refusal is never cached (a new account works at once).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from cachetools import TTLCache
from pydantic import SecretStr, ValidationError

from priyom_contracts import Me, StaffRole

from .auth import Principal, Role
from .http_client import HttpClient
from .logging import get_logger
from .settings import ServiceSettings

log = get_logger("priyom.kit.staff_auth")

#: The kit role each tickets staff role authenticates as, in tickets and in every other service.
KIT_ROLE: Mapping[StaffRole, Role] = {
    StaffRole.AGENT: Role.AGENT, StaffRole.ENGINEER: Role.AGENT, StaffRole.TEAM_HEAD: Role.AGENT,
    StaffRole.SALES: Role.AGENT, StaffRole.SUPERVISOR: Role.SUPERVISOR, StaffRole.ADMIN: Role.ADMIN,
}
#: Longest token worth hashing or asking about (ours are 43 characters).
MAX_TOKEN_CHARS = 200


@dataclass(frozen=True)
class StaffPrincipal(Principal):
    """A member of staff as tickets knows them: the kit role plus their tickets role, teams and extension."""

    staff_role: StaffRole = StaffRole.AGENT
    teams: frozenset[str] = field(default_factory=frozenset)
    extension: str | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffVerifier:
    """``await verifier(token)`` -> the caller or None; the ``Authenticator`` of every service but tickets
    (which holds the accounts and checks its own table, with the same first two steps)."""

    def __init__(self, *, admin_token: SecretStr | None, service_tokens: Mapping[str, SecretStr],
                 staff: HttpClient | None, cache_s: float = 30.0, cache_size: int = 10_000) -> None:
        self.admin_token = admin_token
        self._services = {_digest(t.get_secret_value()): name for name, t in service_tokens.items()}
        self.staff = staff
        self._cache: TTLCache[str, StaffPrincipal] | None = (
            TTLCache(maxsize=cache_size, ttl=cache_s) if cache_s > 0 else None)

    def local(self, token: str) -> Principal | None:
        """The admin or a service, from the environment alone."""
        if self.admin_token is not None and secrets.compare_digest(
                token.encode(), self.admin_token.get_secret_value().encode()):
            return Principal(name="admin", roles=frozenset({Role.ADMIN}))
        name = self._services.get(_digest(token)) if len(token) <= MAX_TOKEN_CHARS else None
        return Principal(name=f"service:{name}", roles=frozenset({Role.SERVICE})) if name else None

    async def __call__(self, token: str) -> Principal | None:
        if (principal := self.local(token)) is not None:
            return principal
        if self.staff is None or len(token) > MAX_TOKEN_CHARS:
            return None
        key = _digest(token)
        if self._cache is not None and (cached := self._cache.get(key)) is not None:
            return cached
        member = await self._ask(token)
        if member is not None and self._cache is not None:
            self._cache[key] = member
        return member

    async def _ask(self, token: str) -> StaffPrincipal | None:
        assert self.staff is not None
        await self.staff.open()  # idempotent: the verifier has no start hook of its own
        try:
            response = await self.staff.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            log.warning("tickets unreachable: staff token not checked", error=type(exc).__name__)
            return None
        if response.status_code != 200:
            return None
        try:
            me = Me.model_validate_json(response.content)
        except ValidationError:
            log.warning("tickets answered /api/v1/me with something else: staff token not checked")
            return None
        return StaffPrincipal(name=me.name[:200], roles=frozenset({KIT_ROLE[me.role]}), staff_role=me.role,
                              teams=frozenset(me.teams), extension=me.extension)

    async def close(self) -> None:
        if self.staff is not None:
            await self.staff.close()


def verifier_for(settings: ServiceSettings) -> StaffVerifier:
    """The deployment's verifier, from the shared settings (what :func:`~priyom_kit.build_app` installs)."""
    staff = HttpClient(base_url=settings.staff_url, timeout_s=5.0) if settings.staff_url else None
    return StaffVerifier(admin_token=settings.admin_token, service_tokens=settings.service_tokens, staff=staff,
                         cache_s=settings.staff_cache_s)
