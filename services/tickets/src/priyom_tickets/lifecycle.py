"""The ticket lifecycle: one declared state machine per ticket type, and nothing else decides a move.

A state machine here is data: a table of named actions, each allowed from some statuses, leading to one
status, performed by staff, the customer (through a staff member recording it, or a follow-up message) or the
system (the silence timer), and perhaps requiring a decision. The API, the follow-up threading and the
scheduler all ask :func:`plan` whether a move is legal, so the rules live in one place and a new type or a
new step is a table edit, not another ``if``.

Pure: no database, no broker, no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from priyom_contracts import ContactType
from priyom_contracts import TicketStatus as S

from .customer_word import confirms


class Actor(StrEnum):
    """Who may set an action off."""

    STAFF = "staff"
    CUSTOMER = "customer"  # a follow-up contact, or staff recording what the customer said
    SYSTEM = "system"  # the scheduler: closing after silence


@dataclass(frozen=True)
class Action:
    """One named move: from any of ``sources`` to ``target``."""

    name: str
    sources: frozenset[S]
    target: S
    actors: frozenset[Actor] = frozenset({Actor.STAFF})
    needs_decision: bool = False
    title: str = ""


def _action(name: str, sources: Iterable[S], target: S, *, actors: Iterable[Actor] = (Actor.STAFF,),
            needs_decision: bool = False, title: str = "") -> Action:
    return Action(name, frozenset(sources), target, frozenset(actors), needs_decision, title or name)


STAFF_OR_CUSTOMER = (Actor.STAFF, Actor.CUSTOMER)
CLOSERS = (Actor.STAFF, Actor.CUSTOMER, Actor.SYSTEM)

#: Information requests, service requests and purchase interest: accept, work, wait, resolve, close.
STANDARD: tuple[Action, ...] = (
    _action("accept", [S.NEW], S.ACCEPTED, title="Принять"),
    _action("start", [S.ACCEPTED, S.PENDING], S.OPEN, title="В работу"),
    _action("wait_for_customer", [S.OPEN], S.PENDING, title="Ждём клиента"),
    _action("customer_replied", [S.PENDING], S.OPEN, actors=STAFF_OR_CUSTOMER, title="Клиент ответил"),
    _action("resolve", [S.ACCEPTED, S.OPEN, S.PENDING], S.RESOLVED, needs_decision=True, title="Решено"),
    _action("reopen", [S.RESOLVED], S.OPEN, actors=STAFF_OR_CUSTOMER, title="Переоткрыть"),
    _action("close", [S.RESOLVED], S.CLOSED, actors=CLOSERS, title="Закрыть"),
    _action("cancel", [S.NEW, S.ACCEPTED, S.OPEN, S.PENDING], S.CANCELLED, needs_decision=True,
            title="Отменить"),
)

#: A complaint (рекламация): review, then back to the initiator for data, rejection with a reason, or an
#: investigation; an action plan whose tasks executors carry out; the customer's confirmation. A customer who
#: does not confirm sends it back to investigation, and the loop repeats until they do (or stay silent).
COMPLAINT: tuple[Action, ...] = (
    _action("review", [S.NEW], S.REVIEW, title="На рассмотрение"),
    _action("request_info", [S.REVIEW], S.NEEDS_INFO, title="Запросить данные"),
    _action("info_received", [S.NEEDS_INFO], S.REVIEW, actors=STAFF_OR_CUSTOMER, title="Данные получены"),
    _action("reject", [S.REVIEW], S.REJECTED, needs_decision=True, title="Отклонить"),
    _action("investigate", [S.REVIEW], S.INVESTIGATION, needs_decision=True, title="Принять к расследованию"),
    _action("plan", [S.INVESTIGATION], S.ACTION_PLAN, title="План мероприятий"),
    _action("propose", [S.ACTION_PLAN], S.AWAITING_CONFIRMATION, title="На подтверждение клиенту"),
    _action("customer_declined", [S.AWAITING_CONFIRMATION], S.INVESTIGATION, actors=STAFF_OR_CUSTOMER,
            title="Клиент не подтвердил"),
    _action("close", [S.AWAITING_CONFIRMATION, S.REJECTED], S.CLOSED, actors=CLOSERS, title="Закрыть"),
    _action("cancel", [S.NEW, S.REVIEW, S.NEEDS_INFO], S.CANCELLED, needs_decision=True, title="Отменить"),
)

MACHINES: Mapping[ContactType, tuple[Action, ...]] = {
    ContactType.COMPLAINT: COMPLAINT,
    ContactType.INFORMATION_REQUEST: STANDARD,
    ContactType.SERVICE_REQUEST: STANDARD,
    ContactType.PURCHASE_INTEREST: STANDARD,
}

#: Statuses a ticket rests in for good: a follow-up contact opens a new ticket instead of reviving these.
FINAL = frozenset({S.CLOSED, S.CANCELLED})

#: Statuses that wait for the customer's word; silence there for the configured time closes the ticket.
SILENCE_CLOSES = frozenset({S.RESOLVED, S.AWAITING_CONFIRMATION, S.REJECTED})

#: What a follow-up message from the customer does, per status it finds the ticket in.
ON_CUSTOMER_MESSAGE: Mapping[S, str] = {
    S.PENDING: "customer_replied",
    S.NEEDS_INFO: "info_received",
}

#: Statuses waiting for the customer's confirmation: (the move if the message confirms, the move if not).
ON_CUSTOMER_VERDICT: Mapping[S, tuple[str, str]] = {
    S.RESOLVED: ("close", "reopen"),
    S.AWAITING_CONFIRMATION: ("close", "customer_declined"),
}


def on_customer_message(status: S, text: str) -> str | None:
    """The move a customer's message makes, by any channel: back to work from a wait, and on a resolved ticket
    either the confirmation the lifecycle asks for (it closes) or a reopening (:mod:`.customer_word`)."""
    verdict = ON_CUSTOMER_VERDICT.get(status)
    if verdict is not None:
        return verdict[0] if confirms(text) else verdict[1]
    return ON_CUSTOMER_MESSAGE.get(status)


@dataclass(frozen=True)
class Change:
    """A requested move with what the agent recorded about it."""

    action: str
    decision: str | None = None
    decision_text: str | None = None
    result: str | None = None
    note: str | None = None


def move_values(move: Action, change: Change, now: datetime) -> dict[str, Any]:
    """The ticket columns a move writes: its status and the times it starts or stops, and the agent's record."""
    values: dict[str, Any] = {"status": move.target.value, "status_changed_at": now, "updated_at": now}
    if change.decision is not None:
        values |= {"decision": change.decision, "decision_text": change.decision_text}
    if change.result is not None:
        values["result"] = change.result
    if move.target in (S.RESOLVED, S.AWAITING_CONFIRMATION, S.REJECTED):
        values["resolved_at"] = now
    if move.target in FINAL:
        values["closed_at"] = now
    return values


class Escalation(StrEnum):
    """Where a ticket can be escalated to; each is recorded on the ticket and in its history."""

    TEAM_HEAD = "team_head"
    SECOND_LINE = "second_line"
    VENDOR = "vendor"


class IllegalTransition(Exception):
    """The action is unknown for this type, not allowed from this status, by this actor, or lacks a decision."""


def actions_for(ticket_type: ContactType) -> tuple[Action, ...]:
    return MACHINES[ticket_type]


def available(ticket_type: ContactType, status: S, actor: Actor = Actor.STAFF) -> list[Action]:
    """The actions an actor may take on a ticket of this type in this status (the console's buttons)."""
    return [a for a in actions_for(ticket_type) if status in a.sources and actor in a.actors]


def plan(ticket_type: ContactType, status: S, action: str, *, actor: Actor = Actor.STAFF,
         has_decision: bool = False) -> Action:
    """The move ``action`` makes from ``status``, or :class:`IllegalTransition` saying why it cannot."""
    matches = [a for a in actions_for(ticket_type) if a.name == action]
    if not matches:
        known = ", ".join(sorted({a.name for a in actions_for(ticket_type)}))
        raise IllegalTransition(f"{ticket_type.value} tickets have no action {action!r} (known: {known})")
    found = next((a for a in matches if status in a.sources), None)
    if found is None:
        raise IllegalTransition(f"{action!r} is not allowed from status {status.value!r}")
    if actor not in found.actors:
        raise IllegalTransition(f"{action!r} cannot be done by {actor.value}")
    if found.needs_decision and not has_decision:
        raise IllegalTransition(f"{action!r} needs a decision")
    return found


def statuses(ticket_type: ContactType) -> frozenset[S]:
    """Every status a ticket of this type can be in (the start and each action's ends)."""
    found = {S.NEW}
    for a in actions_for(ticket_type):
        found |= a.sources | {a.target}
    return frozenset(found)


#: Where a ticket stands after an agent corrects its type, when its status has no place in the new type's
#: machine. The two machines share only ``new`` and the final statuses; every other status has one nearest
#: stage in the other machine (same work done so far, same party waiting, same clocks stopped or running):
#:
#: - standard → complaint: accepted and in progress become *review* (a complaint is investigated only after
#:   the review decision, which a standard ticket never had); waiting for the customer becomes *needs info*;
#:   resolved becomes *awaiting confirmation* (an answer is out, the customer's word is awaited).
#: - complaint → standard: review becomes *accepted*; needs info becomes *pending*; investigation and the
#:   action plan become *in progress*; awaiting confirmation and rejected (a decision given, the customer may
#:   still object) become *resolved*.
#:
#: Statuses both machines know (and moves between the three standard types) stay as they are.
NEAREST_ON_RETYPE: Mapping[S, S] = {
    S.ACCEPTED: S.REVIEW,
    S.OPEN: S.REVIEW,
    S.PENDING: S.NEEDS_INFO,
    S.RESOLVED: S.AWAITING_CONFIRMATION,
    S.REVIEW: S.ACCEPTED,
    S.NEEDS_INFO: S.PENDING,
    S.INVESTIGATION: S.OPEN,
    S.ACTION_PLAN: S.OPEN,
    S.AWAITING_CONFIRMATION: S.RESOLVED,
    S.REJECTED: S.RESOLVED,
}


def status_after_retype(new_type: ContactType, status: S) -> S:
    """The status a ticket in ``status`` takes when its type becomes ``new_type`` (see NEAREST_ON_RETYPE)."""
    if status in statuses(new_type):
        return status
    nearest = NEAREST_ON_RETYPE.get(status)
    if nearest is None or nearest not in statuses(new_type):
        raise IllegalTransition(f"a {status.value!r} ticket cannot become a {new_type.value}")
    return nearest
