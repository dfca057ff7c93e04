"""The declared state machines alone (no I/O): every type's paths, the complaint loop, and what is refused."""

from __future__ import annotations

from collections import deque

import pytest

from priyom_contracts import ContactType, TicketStatus
from priyom_tickets import lifecycle
from priyom_tickets.lifecycle import Actor, IllegalTransition, plan

S = TicketStatus
STANDARD_TYPES = [ContactType.INFORMATION_REQUEST, ContactType.SERVICE_REQUEST, ContactType.PURCHASE_INTEREST]


def walk(ticket_type: ContactType, *steps: tuple[str, bool]) -> list[S]:
    """Apply ``(action, with_decision)`` steps from NEW; the statuses passed through."""
    status, seen = S.NEW, [S.NEW]
    for action, decided in steps:
        status = plan(ticket_type, status, action, has_decision=decided).target
        seen.append(status)
    return seen


@pytest.mark.parametrize("ticket_type", list(ContactType))
def test_every_status_is_reachable_and_every_ticket_can_end(ticket_type: ContactType) -> None:
    actions = lifecycle.actions_for(ticket_type)
    reachable, queue = {S.NEW}, deque([S.NEW])
    while queue:
        status = queue.popleft()
        for action in actions:
            if status in action.sources and action.target not in reachable:
                reachable.add(action.target)
                queue.append(action.target)
    assert reachable == lifecycle.statuses(ticket_type)
    # From every status there is a way to a final one, and final statuses have no way out.
    for status in reachable:
        ends, queue = {status}, deque([status])
        while queue:
            current = queue.popleft()
            for action in actions:
                if current in action.sources and action.target not in ends:
                    ends.add(action.target)
                    queue.append(action.target)
        assert ends & lifecycle.FINAL, f"{ticket_type}: {status} can never end"
    for final in lifecycle.FINAL:
        assert lifecycle.available(ticket_type, final) == []
        assert lifecycle.available(ticket_type, final, Actor.SYSTEM) == []


@pytest.mark.parametrize("ticket_type", STANDARD_TYPES)
def test_standard_paths(ticket_type: ContactType) -> None:
    assert walk(ticket_type, ("accept", False), ("start", False), ("wait_for_customer", False),
                ("customer_replied", False), ("resolve", True), ("close", False)) == [
        S.NEW, S.ACCEPTED, S.OPEN, S.PENDING, S.OPEN, S.RESOLVED, S.CLOSED]
    # Not solved after all: the customer reopens, and it is resolved again.
    assert walk(ticket_type, ("accept", False), ("resolve", True), ("reopen", False), ("resolve", True),
                ("close", False))[-3:] == [S.OPEN, S.RESOLVED, S.CLOSED]
    for cancel_from in ([], [("accept", False)], [("accept", False), ("start", False)],
                        [("accept", False), ("start", False), ("wait_for_customer", False)]):
        assert walk(ticket_type, *cancel_from, ("cancel", True))[-1] == S.CANCELLED


def test_complaint_goes_round_the_loop_until_the_customer_confirms() -> None:
    complaint = ContactType.COMPLAINT
    assert walk(complaint, ("review", False), ("request_info", False), ("info_received", False),
                ("investigate", True), ("plan", False), ("propose", False), ("customer_declined", False),
                ("plan", False), ("propose", False), ("customer_declined", False), ("plan", False),
                ("propose", False), ("close", False)) == [
        S.NEW, S.REVIEW, S.NEEDS_INFO, S.REVIEW, S.INVESTIGATION, S.ACTION_PLAN, S.AWAITING_CONFIRMATION,
        S.INVESTIGATION, S.ACTION_PLAN, S.AWAITING_CONFIRMATION, S.INVESTIGATION, S.ACTION_PLAN,
        S.AWAITING_CONFIRMATION, S.CLOSED]
    assert walk(complaint, ("review", False), ("reject", True), ("close", False))[-2:] == [S.REJECTED, S.CLOSED]
    assert walk(complaint, ("review", False), ("request_info", False), ("cancel", True))[-1] == S.CANCELLED


def test_what_is_refused_and_why() -> None:
    complaint, service = ContactType.COMPLAINT, ContactType.SERVICE_REQUEST
    with pytest.raises(IllegalTransition, match="no action 'review'"):
        plan(service, S.NEW, "review")  # a complaint's step does not exist for other types
    with pytest.raises(IllegalTransition, match="not allowed from status 'new'"):
        plan(service, S.NEW, "resolve", has_decision=True)
    with pytest.raises(IllegalTransition, match="needs a decision"):
        plan(complaint, S.REVIEW, "reject")
    with pytest.raises(IllegalTransition, match="needs a decision"):
        plan(service, S.OPEN, "resolve")
    with pytest.raises(IllegalTransition, match="cannot be done by system"):
        plan(service, S.NEW, "accept", actor=Actor.SYSTEM)
    with pytest.raises(IllegalTransition, match="cannot be done by customer"):
        plan(complaint, S.REVIEW, "investigate", actor=Actor.CUSTOMER, has_decision=True)
    # Only the closing is the system's to do, and only where the customer's word is awaited.
    assert [a.name for a in lifecycle.available(complaint, S.AWAITING_CONFIRMATION, Actor.SYSTEM)] == ["close"]
    assert [a.name for a in lifecycle.available(service, S.RESOLVED, Actor.SYSTEM)] == ["close"]
    assert lifecycle.available(service, S.OPEN, Actor.SYSTEM) == []


def test_a_customer_message_moves_only_tickets_waiting_for_them() -> None:
    for status, action in lifecycle.ON_CUSTOMER_MESSAGE.items():
        moving = [t for t in ContactType if any(a.name == action and status in a.sources
                                                 for a in lifecycle.actions_for(t))]
        assert moving, f"{action} from {status} exists for no type"
        for ticket_type in moving:
            assert plan(ticket_type, status, action, actor=Actor.CUSTOMER).target not in lifecycle.FINAL
