"""Where an escalation moves the ticket, so that escalating is more than a note on it.

- To the team head: the head takes it over (the person named, or the team's head from ``TICKETS_TEAM_HEADS``).
- To the second line: a member of staff named takes it over; otherwise the name is the second-line team's, and
  the ticket waits in that team's queue.
- To a vendor: it stays with its agent, who follows the outside party's case (recorded on the ticket).

The move itself is an assignment (:func:`.changes.assign`): the history says who moved it, the router's load
counters follow it, and the new assignee's console is told at once (its live channel, a desktop notification).
Pure: the caller passes the active staff names and the heads.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .lifecycle import Escalation


@dataclass(frozen=True)
class Target:
    team: str
    assignee: str | None


def target_of(level: Escalation, to: str, ticket: Mapping[str, Any], *, staff: Collection[str],
              heads: Mapping[str, str]) -> Target | None:
    """Who takes the ticket over, or None when it stays where it is."""
    if level is Escalation.TEAM_HEAD:
        head = to if to in staff else heads.get(ticket["team"])
        return Target(ticket["team"], head) if head in staff else None
    if level is Escalation.SECOND_LINE:
        return Target(ticket["team"], to) if to in staff else Target(to, None)
    return None
