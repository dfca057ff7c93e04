"""Activities on SQLite and PostgreSQL: scheduled on a ticket, listed for their owner, moved, handed over, done."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from priyom_contracts import utcnow

AGENT = {"Authorization": "Bearer agent-token"}
SUPERVISOR = {"Authorization": "Bearer supervisor-token"}


async def test_activities_show_on_the_ticket_and_in_the_owners_list(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed())).number
    other = (await tickets.register(make_routed())).number
    now = utcnow()

    async def schedule(ticket: str, kind: str, title: str, owner: str, due: datetime) -> dict:
        response = await tickets.client.post(f"/api/v1/tickets/{ticket}/activities", headers=AGENT, json={
            "kind": kind, "title": title, "owner": owner, "due_at": due.isoformat()})
        assert response.status_code == 201, response.text
        return response.json()

    call = await schedule(number, "call_back", "Перезвонить главному инженеру", "Иванова", now + timedelta(hours=2))
    late = await schedule(other, "document", "Подготовить акт рекламации", "Иванова", now - timedelta(hours=1))
    meeting = await schedule(number, "meeting", "Выезд на объект", "Смирнов", now + timedelta(days=1))
    assert (call["number"], call["kind"], call["created_by"], call["done_at"]) == (number, "call_back", "Иванова",
                                                                                   None)

    async def listed(headers: dict, **params) -> list[str]:
        response = await tickets.client.get("/api/v1/activities", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()]

    assert await listed(AGENT) == [late["id"], call["id"]]  # mine by default, soonest first
    assert await listed(AGENT, overdue="true") == [late["id"]]
    assert await listed(SUPERVISOR) == [meeting["id"]]
    assert await listed(SUPERVISOR, owner="Смирнов") == [meeting["id"]]
    others = await tickets.client.get("/api/v1/activities", params={"owner": "Смирнов"}, headers=AGENT)
    assert others.status_code == 403  # an agent sees their own list only

    moved = await tickets.client.patch(f"/api/v1/activities/{call['id']}", headers=AGENT,
                                       json={"due_at": (now + timedelta(days=2)).isoformat(), "owner": "Смирнов"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["owner"] == "Смирнов"
    done = await tickets.client.patch(f"/api/v1/activities/{late['id']}", headers=AGENT, json={"done": True})
    assert done.json()["done_at"] is not None
    assert await listed(AGENT) == []
    assert await listed(AGENT, done="true") == [late["id"]]
    assert await listed(SUPERVISOR) == [meeting["id"], call["id"]]

    detail = (await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)).json()
    assert [a["id"] for a in detail["activities"]] == [meeting["id"], call["id"]]
    lines = [h for h in detail["history"] if h["action"].startswith("activity_")]
    assert [h["action"] for h in lines] == ["activity_scheduled", "activity_scheduled", "activity_rescheduled"]
    assert lines[-1]["details"]["owner"] == "Смирнов"
    other_detail = (await tickets.client.get(f"/api/v1/tickets/{other}", headers=AGENT)).json()
    assert other_detail["history"][-1]["action"] == "activity_done"

    unchanged = await tickets.client.patch(f"/api/v1/activities/{late['id']}", headers=AGENT, json={"done": True})
    assert unchanged.status_code == 200
    assert len((await tickets.client.get(f"/api/v1/tickets/{other}", headers=AGENT)).json()["history"]) == len(
        other_detail["history"])  # nothing changed, nothing recorded


async def test_activity_input_is_checked(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed())).number
    path = f"/api/v1/tickets/{number}/activities"
    good = {"kind": "call_back", "title": "Перезвонить", "owner": "Иванова", "due_at": utcnow().isoformat()}
    for bad in ({**good, "kind": "party"}, {**good, "title": ""}, {**good, "due_at": "2026-11-25T10:00:00"},
                {**good, "owner": "x" * 501}):
        assert (await tickets.client.post(path, headers=AGENT, json=bad)).status_code == 422
    assert (await tickets.client.post("/api/v1/tickets/1999-000001/activities", headers=AGENT,
                                      json=good)).status_code == 404
    assert (await tickets.client.patch(f"/api/v1/activities/{uuid.uuid4()}", headers=AGENT,
                                       json={"done": True})).status_code == 404
    assert (await tickets.client.get("/api/v1/activities")).status_code == 401
