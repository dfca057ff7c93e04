"""Who may see and who may act on which tickets: staff roles, and per-team rules an administrator configures.

The kit's bearer authentication says who is calling; this module decides, for each ticket, whether they may
read it and whether they may change it. Supervisors, directors and admins see everything; everyone else sees
the tickets of their own teams (when the team's rule lets their role see) and the tickets assigned to them.
Acting follows the same shape with the team's ``act`` list. Pure: no database, no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from priyom_contracts import StaffRole
from priyom_kit import Principal, Role

#: Roles that see and may act on every ticket, whatever its team.
SEES_ALL = frozenset({StaffRole.SUPERVISOR, StaffRole.ADMIN})


@dataclass(frozen=True)
class Staff(Principal):
    """A member of staff: a kit principal plus the tickets role and the teams they belong to."""

    staff_role: StaffRole = StaffRole.AGENT
    teams: frozenset[str] = frozenset()
    #: A staff account's token (not the environment's admin token or a service's credential).
    account: bool = False


def staff_of(principal: Principal) -> Staff:
    """The staff view of any principal: the admin token's principal is an admin; a kit supervisor sees all."""
    if isinstance(principal, Staff):
        return principal
    if Role.ADMIN in principal.roles:
        role = StaffRole.ADMIN
    elif Role.SUPERVISOR in principal.roles:
        role = StaffRole.SUPERVISOR
    else:
        role = StaffRole.AGENT
    return Staff(principal.name, principal.roles, role, frozenset())


@dataclass(frozen=True)
class TeamRule:
    view: frozenset[StaffRole]
    act: frozenset[StaffRole]


ALL_WORKING_ROLES = frozenset({StaffRole.AGENT, StaffRole.ENGINEER, StaffRole.TEAM_HEAD, StaffRole.SALES})


@dataclass(frozen=True)
class AccessPolicy:
    """Per-team rules; a team without one gets ``default`` (every working role of the team sees and acts)."""

    rules: Mapping[str, TeamRule] = field(default_factory=dict)
    default: TeamRule = TeamRule(ALL_WORKING_ROLES, ALL_WORKING_ROLES)

    def rule(self, team: str) -> TeamRule:
        return self.rules.get(team, self.default)

    def may_view(self, staff: Staff, ticket: Mapping[str, Any]) -> bool:
        return self._allowed(staff, ticket, lambda rule: rule.view)

    def may_act(self, staff: Staff, ticket: Mapping[str, Any]) -> bool:
        return self._allowed(staff, ticket, lambda rule: rule.act)

    def _allowed(self, staff: Staff, ticket: Mapping[str, Any], pick: Any) -> bool:
        if staff.staff_role in SEES_ALL:
            return True
        if ticket.get("assignee") == staff.name:
            return True
        return ticket["team"] in staff.teams and staff.staff_role in pick(self.rule(ticket["team"]))

    def viewer(self, staff: Staff) -> Viewer:
        """What a list shown to ``staff`` may hold: their visible teams' tickets and those assigned to them."""
        return Viewer(staff.name, self.visible_teams(staff))

    def visible_teams(self, staff: Staff) -> frozenset[str] | None:
        """Teams whose tickets ``staff`` sees in lists; None means every team."""
        if staff.staff_role in SEES_ALL:
            return None
        return frozenset(t for t in staff.teams if staff.staff_role in self.rule(t).view)


@dataclass(frozen=True)
class Viewer:
    """Whose eyes a list is for, as a query filter: tickets of ``teams`` (None: every team) or assigned to
    ``name``. Used where a list is pushed rather than asked for (the caller pop-up)."""

    name: str
    teams: frozenset[str] | None


def policy_from_mapping(data: Mapping[str, Mapping[str, Iterable[str]]]) -> AccessPolicy:
    """``{"quality": {"view": ["engineer", "team_head"], "act": ["team_head"]}}``; ValueError on unknown roles."""
    return AccessPolicy({team: TeamRule(frozenset(StaffRole(r) for r in rule.get("view", ())),
                                        frozenset(StaffRole(r) for r in rule.get("act", ())))
                         for team, rule in data.items()})
