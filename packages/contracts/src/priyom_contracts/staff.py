"""Staff as the tickets service knows them: who a staff token belongs to (``GET /api/v1/me`` on tickets).

Tickets answers with :class:`Me`; a service that accepts staff tokens (intake-telephony's click-to-call) asks
tickets with the caller's own token and reads the same model, so a revoked token stops working at once.
Services read who is on which phone extension as :class:`StaffExtension` (``GET /api/v1/staff/extensions``),
and who is taking contacts now as the router's :class:`AgentAvailability` (``GET /api/v1/agents`` on the router).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .base import Contract


class StaffRole(StrEnum):
    """A staff member's role in the tickets service."""

    AGENT = "agent"  # first line: registers, answers, routes
    ENGINEER = "engineer"  # second line: investigates and fixes
    TEAM_HEAD = "team_head"
    SALES = "sales"
    SUPERVISOR = "supervisor"  # and directors: see all, act on all
    ADMIN = "admin"


class Me(Contract):
    """Who the token belongs to: what the console shows and which queues it offers."""

    name: str
    role: StaffRole
    teams: list[str]
    sees_all: bool = Field(description="Supervisors and admins see every team's tickets")
    extension: str | None = Field(None, description="The phone extension whose calls pop up for this agent")
    telephony: bool = Field(False, description="Calls are handled from the console: a pop-up's caller can be "
                            "called back and its ticket opened or chosen (tickets knows intake-telephony)")


class StaffExtension(Contract):
    """A member of staff reachable on a phone extension. A PBX integration that names agents instead of
    extensions (Zammad's generic CTI sends their real names in ``user[]``) finds here the extension their
    pop-ups go to; tickets keeps the extension on the staff record, so there is no second list to maintain."""

    name: str
    extension: str


class AgentAvailability(Contract):
    """A team member in the router's roster: whether they take contacts now (the website chat says "nobody is
    online" when no one does) and how many open tickets they have."""

    name: str
    teams: list[str]
    available: bool
    open_tickets: int
