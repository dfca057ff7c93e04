"""Who may start a click-to-call from which extension.

The caller is whoever the kit's one verifier says (:mod:`priyom_kit.staff_auth`: the admin token, or a staff
token checked at tickets' ``GET /api/v1/me``, which also gives the extension on their record). An agent may
only call out from their own extension; supervisors, team heads and admins from any.
"""

from __future__ import annotations

from priyom_contracts import StaffRole
from priyom_kit import Principal, Role
from priyom_kit.staff_auth import StaffPrincipal

#: Tickets' staff roles that may call out from any extension.
ANY_EXTENSION = frozenset({StaffRole.SUPERVISOR, StaffRole.TEAM_HEAD, StaffRole.ADMIN})


def may_call_from(principal: Principal, extension: str) -> bool:
    """The admin and supervisors call from any extension; an agent from their own only."""
    if Role.ADMIN in principal.roles:
        return True
    if isinstance(principal, StaffPrincipal):
        return principal.staff_role in ANY_EXTENSION or principal.extension == extension
    return False
