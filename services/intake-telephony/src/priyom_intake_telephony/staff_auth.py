"""Who may start a click-to-call: the admin token, or a staff member's token as the tickets service knows it.

Staff and their extensions live in tickets; telephony asks tickets' ``GET /api/v1/me`` with the caller's own
token (no copy of the staff list here, so a revoked token stops working at once). An agent may only call
out from their own extension; supervisors, team heads and admins from any.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx
from pydantic import SecretStr

from priyom_kit import Principal, Role, get_logger

log = get_logger("priyom.intake-telephony.auth")

#: Tickets' staff roles that may call out from any extension.
ANY_EXTENSION = frozenset({"supervisor", "team_head", "admin"})


@dataclass(frozen=True)
class StaffPrincipal(Principal):
    """A staff member, with the extension tickets has on their record (``None``: none set)."""

    extension: str | None = None
    any_extension: bool = False


def may_call_from(principal: Principal, extension: str) -> bool:
    """The admin and supervisors call from any extension; an agent from their own only."""
    if Role.ADMIN in principal.roles:
        return True
    if isinstance(principal, StaffPrincipal):
        return principal.any_extension or principal.extension == extension
    return False


class StaffAuthenticator:
    """``await authenticator(token)`` -> the caller, or None. Built in ``app.py`` with tickets' address."""

    def __init__(self, admin_token: SecretStr | None, tickets_url: str | None,
                 client: httpx.AsyncClient | None = None, timeout_s: float = 5.0) -> None:
        self.admin_token = admin_token
        self.tickets_url = tickets_url.rstrip("/") if tickets_url else None
        self.client = client or httpx.AsyncClient(timeout=timeout_s)

    async def __call__(self, token: str) -> Principal | None:
        if self.admin_token is not None and secrets.compare_digest(
                token.encode(), self.admin_token.get_secret_value().encode()):
            return Principal(name="admin", roles=frozenset({Role.ADMIN}))
        if self.tickets_url is None:
            return None
        try:
            response = await self.client.get(f"{self.tickets_url}/api/v1/me",
                                             headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            log.warning("tickets unreachable: staff token not checked", error=type(exc).__name__)
            return None
        if response.status_code != 200:
            return None
        me = response.json()
        role = str(me.get("role", ""))
        return StaffPrincipal(name=str(me.get("name", "staff"))[:200],
                              roles=frozenset({Role.SUPERVISOR if role in ANY_EXTENSION else Role.AGENT}),
                              extension=me.get("extension"), any_extension=role in ANY_EXTENSION)

    async def close(self) -> None:
        await self.client.aclose()
