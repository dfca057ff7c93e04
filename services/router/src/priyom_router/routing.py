"""The whole routing decision, pure: classify, assign, prioritise and set the SLA deadlines.

Times count from when the contact was received, so a redelivery or a replay decides (and computes deadlines)
exactly as the first delivery did, and the working-hours checks look at when the customer wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from priyom_contracts import ClientMatch, Contact, Routing

from .assignment import Assignment, Roster, assign
from .contact_type import Classification, Facts, SecondOpinion, classify
from .own_text import reading
from .rules import RuleBook


@dataclass
class Decision:
    classification: Classification
    assignment: Assignment
    priority: int
    routing: Routing

    @property
    def trail(self) -> list[str]:
        return self.classification.trail + self.assignment.trail


def priority_of(book: RuleBook, kind: Classification, client: ClientMatch | None) -> int:
    """1 is the most urgent: the type's base, moved by the client's SLA tier and the urgency."""
    p = book.priority
    value = p.by_type.get(kind.type, p.base) + p.by_urgency.get(kind.urgency, 0)
    if client is not None:
        value += p.by_tier.get(client.sla_tier, 0)
    return max(1, min(p.lowest, value))


def decide(contact: Contact, channel: str, client: ClientMatch | None, book: RuleBook, roster: Roster,
           *, second_opinion: SecondOpinion | None = None, version: int | None = None,
           kind: Classification | None = None) -> Decision:
    """Everything the router decides about one contact, with the trail of why.

    ``kind``, when given, is the contact's classification from an earlier call: placing it again on a fresher
    roster (under the balancing lock) must not classify twice."""
    local_time = contact.received_at.astimezone(book.zone)
    if kind is None:
        facts = Facts(channel=channel, text=reading(contact.subject, contact.body), client=client,
                      local_time=local_time)
        kind = classify(book, facts, second_opinion)
    if contact.automated is not None:
        # Machine-written (a bounce, an auto-reply): it joins its ticket and opens none, so nobody is assigned.
        team = book.team_for_category(kind.category) or book.team(book.assignment.default_team)
        assert team is not None
        placed = Assignment(team.name, None, "automated",
                            trail=[f"written by a machine ({contact.automated}): no agent is assigned"])
    else:
        placed = assign(kind, client, book, roster, local_time, contact.registered_by)
    priority = priority_of(book, kind, client)
    tier = book.sla.get(client.sla_tier if client else "standard") or book.sla["standard"]
    target = tier[kind.urgency]
    received: datetime = contact.received_at
    trail = kind.trail + placed.trail
    routing = Routing(
        type=kind.type,
        category=kind.category,
        product=kind.product,
        urgency=kind.urgency,
        team=placed.team,
        assignee=placed.assignee,
        reason=f"{placed.reason} ({kind.note})"[:500],
        priority=priority,
        rule=kind.rule,
        trail=[line[:500] for line in trail],
        rules_version=version,
        first_response_due_at=received + timedelta(minutes=target.first_response_minutes),
        resolution_due_at=received + timedelta(minutes=target.resolution_minutes),
    )
    return Decision(kind, placed, priority, routing)
