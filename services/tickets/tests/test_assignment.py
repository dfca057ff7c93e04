"""Taking, handing over and transferring a ticket through the API on SQLite and PostgreSQL: the ticket, its
history, and the ``ticket.assigned`` the router moves its load counters by."""

from __future__ import annotations

from sqlalchemy import select

from priyom_contracts import TicketAssigned
from priyom_tickets import tables

AGENT = {"Authorization": "Bearer agent-token"}  # Иванова
SUPERVISOR = {"Authorization": "Bearer supervisor-token"}  # Смирнов
ADMIN = {"Authorization": "Bearer admin-token"}


async def announced(tickets) -> list[dict]:
    async with tickets.database.sessions() as session:
        rows = (await session.execute(select(tables.ticket_outbox).order_by(tables.ticket_outbox.c.id))).mappings()
        return [r["payload"] for r in rows if r["event_type"] == TicketAssigned.type_name()]


async def test_take_hand_over_and_transfer_are_recorded_and_announced(tickets, make_routed) -> None:
    for name in ("Иванова", "Петров"):
        made = await tickets.client.post("/api/v1/staff", headers=ADMIN,
                                         json={"name": name, "role": "agent", "teams": ["service"]})
        assert made.status_code == 201, made.text
    number = (await tickets.register(make_routed(channel="email"))).number
    path = f"/api/v1/tickets/{number}/assignment"

    taken = await tickets.client.post(path, headers=AGENT, json={"assignee": "Иванова"})
    assert taken.status_code == 200, taken.text
    assert taken.json() == {"number": number, "team": "service", "assignee": "Иванова", "changed": True}
    again = await tickets.client.post(path, headers=AGENT, json={"assignee": "Иванова"})
    assert again.json()["changed"] is False
    handed = await tickets.client.post(path, headers=AGENT, json={"assignee": "Петров", "reason": "Он знает кассы"})
    assert handed.json()["assignee"] == "Петров"
    moved = await tickets.client.post(path, headers=SUPERVISOR, json={"team": "sales"})
    assert (moved.json()["team"], moved.json()["assignee"]) == ("sales", None)

    assert [(e["assignee"], e["old_assignee"], e["team"], e["assigned_by"]) for e in await announced(tickets)] == [
        ("Иванова", None, "service", "Иванова"), ("Петров", "Иванова", "service", "Иванова"),
        (None, "Петров", "sales", "Смирнов")], "one event per move, none for a move that changed nothing"
    detail = (await tickets.client.get(f"/api/v1/tickets/{number}", headers=SUPERVISOR)).json()
    assert (detail["team"], detail["assignee"]) == ("sales", None)
    lines = [(h["actor"], h["details"]["to"], h["details"]["reason"]) for h in detail["history"]
             if h["action"] == "assigned"]
    assert lines == [("Иванова", "Иванова", "Иванова took it"), ("Иванова", "Петров", "Он знает кассы"),
                     ("Смирнов", None, "Смирнов sent it to the queue")]


async def test_who_may_move_a_ticket_and_where(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed(team="quality"))).number
    path = f"/api/v1/tickets/{number}/assignment"
    assert (await tickets.client.post(path, json={})).status_code == 401
    assert (await tickets.client.post(path, headers={"Authorization": "Bearer service-token"}, json={})
            ).status_code == 403
    assert (await tickets.client.post(path, headers=AGENT, json={"assignee": "Иванова"})).status_code == 404
    nobody = await tickets.client.post(path, headers=SUPERVISOR, json={"assignee": "Никто"})
    assert nobody.status_code == 422 and "no active staff account" in nobody.text
    assert await announced(tickets) == []
    cancelled = await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=SUPERVISOR,
                                          json={"action": "cancel", "decision": "duplicate"})
    assert cancelled.status_code == 200, cancelled.text
    assert (await tickets.client.post(path, headers=SUPERVISOR, json={})).status_code == 409
