"""Who may start a click-to-call: the admin token, or a staff member's token as the tickets service knows it.

Staff and their extensions live in tickets; telephony asks tickets' ``GET /api/v1/me`` with the caller's own
token (no copy of the staff list here, so a revoked token stops working at once) and reads the answer as
:class:`~priyom_contracts.Me`. An agent may only call out from their own extension; supervisors, team heads
and admins from any.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx
from pydantic import SecretStr, ValidationError

from priyom_contracts import Me, StaffRole
from priyom_kit import HttpClient, Principal, Role, get_logger

log = get_logger("priyom.intake-telephony.auth")

#: Tickets' staff roles that may call out from any extension.
ANY_EXTENSION = frozenset({StaffRole.SUPERVISOR, StaffRole.TEAM_HEAD, StaffRole.ADMIN})


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
    """``await authenticator(token)`` -> the caller, or None. Built in ``app.py`` with the service's client for
    tickets (None: ``INTAKE_TELEPHONY_TICKETS_URL`` unset, only the admin token is accepted)."""

    def __init__(self, admin_token: SecretStr | None, tickets: HttpClient | None) -> None:
        self.admin_token = admin_token
        self.tickets = tickets

    async def __call__(self, token: str) -> Principal | None:
        if self.admin_token is not None and secrets.compare_digest(
                token.encode(), self.admin_token.get_secret_value().encode()):
            return Principal(name="admin", roles=frozenset({Role.ADMIN}))
        if self.tickets is None:
            return None
        try:
            response = await self.tickets.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
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
        any_extension = me.role in ANY_EXTENSION
        return StaffPrincipal(name=me.name[:200], extension=me.extension, any_extension=any_extension,
                              roles=frozenset({Role.SUPERVISOR if any_extension else Role.AGENT}))
