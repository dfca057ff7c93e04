"""The supervisor's dashboard figures on SQLite and PostgreSQL (the page itself: test_dashboard_browser.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from priyom_tickets.dashboard import start_of_day

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
