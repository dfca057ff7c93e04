"""The supervisor's dashboard figures on SQLite and PostgreSQL (the page itself: test_dashboard_browser.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from priyom_contracts import CallEvent, CallOutcome, CallState, utcnow
from priyom_tickets.call_board import FORGET_AFTER, CallBoard
from priyom_tickets.dashboard import start_of_day

from .test_call_backs import phoned

AGENT = {"Authorization": "Bearer agent-token"}
SUPERVISOR = {"Authorization": "Bearer supervisor-token"}


def test_today_starts_at_midnight_in_the_desk_s_time_zone() -> None:
    now = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)  # already the 5th in Moscow
    assert start_of_day(now, ZoneInfo("Europe/Moscow")) == datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    assert start_of_day(now, ZoneInfo("UTC")) == datetime(2026, 12, 4, 0, 0, tzinfo=UTC)


async def test_the_figures_count_queues_agents_today_and_the_last_24_hours(tickets, make_routed) -> None:
    waiting = (await tickets.register(make_routed())).number
    mine = (await tickets.register(make_routed(assignee="Иванова"))).number
    await tickets.register(make_routed(team="sales"))
    for action, body in (("accept", {}), ("resolve", {"decision": "consulted"})):
        moved = await tickets.client.post(f"/api/v1/tickets/{mine}/transitions", headers=AGENT,
                                          json={"action": action} | body)
        assert moved.status_code == 200, moved.text
    assert (await tickets.client.get("/api/v1/dashboard", headers=AGENT)).status_code == 403

    figures = (await tickets.client.get("/api/v1/dashboard", headers=SUPERVISOR)).json()
    assert figures["teams"] == [{"team": "sales", "open": 1, "waiting": 1, "overdue": 0},
                                {"team": "service", "open": 1, "waiting": 1, "overdue": 0}]
    assert figures["today"] == {"first_responses": 0, "first_responses_in_time": 0, "resolved": 1,
                                "resolved_in_time": 1}
    assert figures["agents"] == [], "Иванова's one ticket is resolved; no console is open"
    assert len(figures["hours"]) == 24
    assert (sum(h["created"] for h in figures["hours"]), sum(h["resolved"] for h in figures["hours"])) == (3, 1)
    listed = await tickets.client.get("/api/v1/tickets", headers=SUPERVISOR,
                                      params={"team": "service", "working": "true", "unassigned": "true"})
    assert [t["number"] for t in listed.json()["items"]] == [waiting], "the list behind the waiting figure"


async def test_today_s_calls_are_counted_answered_and_missed(tickets, make_routed) -> None:
    """Calls that became tickets or follow-ups (call_log.py): inbound ones started today, by outcome; an
    outbound call and one of two days ago are not counted."""
    yesterday = utcnow() - timedelta(days=2)
    for outcome, direction, started in ((CallOutcome.ANSWERED, "inbound", None),
                                        (CallOutcome.ANSWERED, "inbound", None),
                                        (CallOutcome.MISSED, "inbound", None),
                                        (CallOutcome.ABANDONED, "inbound", None),
                                        (CallOutcome.ANSWERED, "outbound", None),
                                        (CallOutcome.MISSED, "inbound", yesterday)):
        event = phoned(make_routed(channel="phone"), outcome)
        call = event.contact.call.model_copy(update={"direction": direction, "call_id": str(uuid.uuid4())})
        if started is not None:
            call = call.model_copy(update={"started_at": started, "ended_at": started + timedelta(seconds=30)})
        await tickets.register(event.model_copy(update={"contact": event.contact.model_copy(update={"call": call})}))
    figures = (await tickets.client.get("/api/v1/dashboard", headers=SUPERVISOR)).json()
    assert figures["calls"] == {"ringing": 0, "talking": 0, "answered": 2, "missed": 2}


def test_the_call_board_follows_calls_from_ringing_to_their_end() -> None:
    now = [utcnow()]
    board = CallBoard(lambda: now[0])

    def event(call_id: str, state: CallState, agent: str = "101") -> CallEvent:
        return CallEvent(correlation_id=uuid.uuid4(), channel="phone", idempotency_key=f"{call_id}-{state}-{agent}",
                         call_id=call_id, state=state, caller="+79161234567", agent=agent)

    assert not board.take_changed()
    board.on_event(event("a", CallState.RINGING))
    board.on_event(event("a", CallState.RINGING, agent="102"))  # a ring group: still one call
    board.on_event(event("b", CallState.RINGING))
    assert board.figures() == {"ringing": 2, "talking": 0}
    assert board.take_changed() and not board.take_changed()
    board.on_event(event("a", CallState.ANSWERED))
    board.on_event(event("a", CallState.RINGING, agent="103"))  # a consultation during the talk
    assert board.figures() == {"ringing": 1, "talking": 1}
    board.on_event(event("b", CallState.MISSED))
    board.on_event(event("a", CallState.ENDED))
    assert board.figures() == {"ringing": 0, "talking": 0}
    assert board.take_changed()
    board.on_event(event("c", CallState.RINGING))
    now[0] += FORGET_AFTER + timedelta(seconds=1)  # its end never came
    assert board.figures() == {"ringing": 0, "talking": 0}
