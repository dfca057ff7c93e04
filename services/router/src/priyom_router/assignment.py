"""Who takes a classified contact: the assignment steps of the rule book, in its order, on a roster snapshot.

Pure: the roster (who is available, how many open tickets each has, whom each team got last) is read by the
caller; for a balanced choice it is read under the lock of the team's balancing group and the choice recorded
before the lock is released, so two concurrent contacts never both see the same agent as the least loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from priyom_contracts import ClientMatch, ContactType

from .contact_type import Classification, within
from .rules import RuleBook, Step, Team

#: The step of a contact whose type the model was unsure of (not configurable: it precedes every step).
TRIAGE_STEP = "triage"


@dataclass(frozen=True)
class AgentState:
    name: str
    available: bool
    open_tickets: int = 0


@dataclass(frozen=True)
class Roster:
    """Agents' reported availability, their open-ticket counts, and each team's last assignee."""

    available: Mapping[str, bool] = field(default_factory=dict)
    loads: Mapping[str, int] = field(default_factory=dict)
    last_assigned: Mapping[str, str] = field(default_factory=dict)

    def state(self, name: str, available_by_default: bool) -> AgentState:
        """An agent whose availability was never reported counts as ``available_by_default``."""
        return AgentState(name, self.available.get(name, available_by_default), self.loads.get(name, 0))


@dataclass
class Assignment:
    team: str
    assignee: str | None
    step: str
    #: True when the contact waits in the team's queue for someone to free up.
    waiting: bool = False
    #: True when the agent was chosen among the team by load or turn: the choice depends on the other
    #: contacts being assigned at the same moment, so it must be taken under the team group's lock.
    balanced: bool = False
    #: True when it waits because the team is closed: the queue sweep hands it over when the hours start.
    until_opening: bool = False
    trail: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return self.trail[-1] if self.trail else self.step


def assign(kind: Classification, client: ClientMatch | None, book: RuleBook, roster: Roster,
           local_time: datetime, registered_by: str | None = None) -> Assignment:
    """Try each configured step in order; the skills step (or the default team) always decides."""
    trail: list[str] = []
    config = book.assignment
    if kind.triage:
        # Before every step: the sales or skills team of a guessed type would act on a guess.
        return _to_team(_team(book, config.triage_team or config.first_line_team),
                        f"type uncertain ({kind.note}): to triage", TRIAGE_STEP, book, roster, local_time, trail)
    skills_team = book.team_for_category(kind.category) or book.team(config.default_team)
    assert skills_team is not None  # the rule book validates that the default team exists
    for step in config.order:
        if step is Step.ACCOUNT_MANAGER:
            manager = client.account_manager if client else None
            if not manager:
                continue
            if roster.state(manager, config.available_by_default).available:
                trail.append(f"the client's account manager {manager}")
                return Assignment(skills_team.name, manager, step.value, trail=trail)
            trail.append(f"account manager {manager} is not available")
        elif step is Step.SALES and kind.type is ContactType.PURCHASE_INTEREST:
            return _to_team(_team(book, config.sales_team), "purchase interest goes to sales", step.value, book,
                            roster, local_time, trail)
        elif step is Step.FIRST_LINE and kind.type is ContactType.INFORMATION_REQUEST:
            if registered_by:
                trail.append(f"information request stays with {registered_by}, who registered it")
                return Assignment(config.first_line_team, registered_by, step.value, trail=trail)
            return _to_team(_team(book, config.first_line_team), "information request to the first line",
                            step.value, book, roster, local_time, trail)
        elif step is Step.SKILLS:
            why = (f"team {skills_team.name} has the skill {kind.category}"
                   if kind.category in skills_team.skills else f"no team has the skill {kind.category}: default team")
            return _to_team(skills_team, why, step.value, book, roster, local_time, trail)
    default = _team(book, config.default_team)
    return _to_team(default, "no step decided: default team", Step.SKILLS.value, book, roster, local_time, trail)


def _team(book: RuleBook, name: str) -> Team:
    team = book.team(name)
    assert team is not None  # validated in RuleBook
    return team


def _to_team(team: Team, why: str, step: str, book: RuleBook, roster: Roster, local_time: datetime,
             trail: list[str]) -> Assignment:
    trail.append(why)
    if team.hours is not None and not within(team.hours, local_time):
        on_duty = _team(book, book.assignment.on_duty_team)
        on_duty_closed = on_duty.hours is not None and not within(on_duty.hours, local_time)
        if team.after_hours == "queue" or on_duty is team or on_duty_closed:
            trail.append(f"outside {team.name}'s hours ({local_time:%a %H:%M}): waits in its queue")
            return Assignment(team.name, None, step, waiting=True, until_opening=True, trail=trail)
        return _to_team(on_duty, f"outside {team.name}'s hours ({local_time:%a %H:%M}): on-duty team "
                        f"{on_duty.name}", step, book, roster, local_time, trail)
    agent = pick_agent(team, book, roster)
    if agent is None:
        trail.append(f"nobody in {team.name} is available: waits in the team queue")
        return Assignment(team.name, None, step, waiting=True, trail=trail)
    load = roster.state(agent, book.assignment.available_by_default).open_tickets
    how = "fewest open tickets" if book.assignment.balancing == "least_loaded" else "round robin"
    trail.append(f"{agent} in {team.name} ({how}, {load} open)")
    return Assignment(team.name, agent, step, balanced=True, trail=trail)


def pick_agent(team: Team, book: RuleBook, roster: Roster) -> str | None:
    """The available member with the fewest open tickets (ties: file order), or the next in turn."""
    default = book.assignment.available_by_default
    available = [m for m in team.members if roster.state(m, default).available]
    if not available:
        return None
    if book.assignment.balancing == "round_robin":
        last = roster.last_assigned.get(team.name)
        if last in team.members:
            start = team.members.index(last) + 1
            ring = team.members[start:] + team.members[:start]
            return next(m for m in ring if m in available)
        return available[0]
    return min(available, key=lambda m: (roster.state(m, default).open_tickets, team.members.index(m)))
