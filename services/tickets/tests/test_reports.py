"""Reports on SQLite and PostgreSQL: grouped counts, lateness, response and resolution times, ratings, CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from priyom_contracts import ContactType, utcnow

AGENT = {"Authorization": "Bearer agent-token"}
SUPERVISOR = {"Authorization": "Bearer supervisor-token"}


async def test_reports_by_assignee_type_and_status_as_json_and_csv(tickets, make_routed) -> None:
    now = utcnow()
    a = (await tickets.register(make_routed(channel="email", assignee="Иванова"))).number
    b = (await tickets.register(make_routed(assignee="Иванова", type=ContactType.COMPLAINT,
                                            resolution_due_at=now - timedelta(hours=1)))).number
    await tickets.register(make_routed(assignee="Смирнов"))
    assert (await tickets.client.post(f"/api/v1/tickets/{a}/replies", headers=AGENT,
                                      json={"body": "Смотрим"})).status_code == 202
    for action, extra in (("accept", {}), ("resolve", {"decision": "fixed"}), ("close", {})):
        assert (await tickets.client.post(f"/api/v1/tickets/{a}/transitions", headers=AGENT,
                                          json={"action": action, **extra})).status_code == 200
    assert (await tickets.client.post(f"/api/v1/tickets/{a}/satisfaction", headers=AGENT,
                                      json={"rating": 4})).status_code == 201

    async def report(**params) -> list[dict]:
        response = await tickets.client.get("/api/v1/reports/tickets", params=params, headers=SUPERVISOR)
        assert response.status_code == 200, response.text
        return response.json()["rows"]

    by_agent = {r["group"]: r for r in await report(group_by="assignee")}
    ivanova, smirnov = by_agent["Иванова"], by_agent["Смирнов"]
    assert (ivanova["tickets"], ivanova["open"], ivanova["overdue"], ivanova["rated"]) == (2, 1, 1, 1)
    assert ivanova["avg_rating"] == 4.0
    assert 0 <= ivanova["avg_first_response_min"] < 5 and 0 <= ivanova["avg_resolution_min"] < 5
    assert (smirnov["tickets"], smirnov["rated"], smirnov["avg_rating"], smirnov["avg_first_response_min"]) == (
        1, 0, None, None)
    assert {r["group"]: r["tickets"] for r in await report(group_by="type")} == {
        "service_request": 2, "complaint": 1}
    assert {r["group"]: r["tickets"] for r in await report(group_by="status")} == {"new": 2, "closed": 1}
    assert await report(group_by="status", **{"from": (now + timedelta(days=1)).isoformat()}) == []
    assert sum(r["tickets"] for r in await report(group_by="channel", to=(now + timedelta(days=1)).isoformat())
               ) == 3

    exported = await tickets.client.get("/api/v1/reports/tickets", headers=SUPERVISOR,
                                        params={"group_by": "assignee", "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "tickets-by-assignee.csv" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["group"]: (r["tickets"], r["avg_rating"]) for r in rows} == {"Иванова": ("2", "4.0"),
                                                                          "Смирнов": ("1", "")}
    assert b  # the late complaint counted above


async def test_reports_are_for_supervisors_and_check_their_input(tickets) -> None:
    assert (await tickets.client.get("/api/v1/reports/tickets", headers=AGENT)).status_code == 403
    assert (await tickets.client.get("/api/v1/reports/tickets")).status_code == 401
    for bad in ({"group_by": "weather"}, {"format": "xlsx"}, {"from": "yesterday"}, {"to": "2026-11-25T10:00"}):
        assert (await tickets.client.get("/api/v1/reports/tickets", params=bad,
                                         headers=SUPERVISOR)).status_code == 422
