"""Macros and canned answers through the API on SQLite and PostgreSQL: who sees and who writes which macro,
the variables filled in, and the changes one application makes to a ticket (type, fields, lifecycle)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from priyom_contracts import ContactType, StaffRole
from priyom_kit import Role
from priyom_tickets import tables
from priyom_tickets.access import Staff
from priyom_tickets.macros import render, unknown_variables

from .conftest import TOKENS

AGENT = {"Authorization": "Bearer agent-token"}  # Иванова, teams service and sales
SUPERVISOR = {"Authorization": "Bearer supervisor-token"}  # Смирнов
HEAD = {"Authorization": "Bearer head-token"}  # Главова, head of service
QUALITY = {"Authorization": "Bearer quality-token"}  # Котов, an agent of quality only


@pytest.fixture(autouse=True)
def more_staff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TOKENS, "head-token", Staff("Главова", frozenset({Role.AGENT}), StaffRole.TEAM_HEAD,
                                                    frozenset({"service"})))
    monkeypatch.setitem(TOKENS, "quality-token", Staff("Котов", frozenset({Role.AGENT}), StaffRole.AGENT,
                                                       frozenset({"quality"})))


def test_variables_are_filled_from_the_ticket_and_the_agent_and_unknown_ones_are_named() -> None:
    ticket = {"number": "2026-000042", "client_name": "ООО Ромашка", "subject": None, "team": "service"}
    text = "{{client}}, заявка {{ number }} ({{subject}}) у {{agent}} из {{team}}."
    assert render(text, ticket, "Иванова") == "ООО Ромашка, заявка 2026-000042 () у Иванова из service."
    assert unknown_variables("{{clinet}} {{number}} {{ Agent }}") == ["Agent", "clinet"]
    assert unknown_variables("{не переменная} {{number}}") == []


async def names(tickets, headers) -> list[str]:  # noqa: ANN001 - the fixture
    listed = await tickets.client.get("/api/v1/macros", headers=headers)
    assert listed.status_code == 200, listed.text
    return [m["name"] for m in listed.json()]


async def test_who_sees_and_who_writes_which_macro(tickets) -> None:
    async def create(headers, **body) -> int:  # noqa: ANN001, ANN003
        return (await tickets.client.post("/api/v1/macros", headers=headers, json={"body": "Текст"} | body)
                ).status_code

    assert await create(AGENT, name="Мой") == 201
    assert await create(AGENT, name="Команде", scope="team", team="service") == 403, "an agent writes no team's"
    assert await create(HEAD, name="Сервис", scope="team", team="service") == 201
    assert await create(HEAD, name="Чужой", scope="team", team="sales") == 403, "a head writes their team's only"
    assert await create(HEAD, name="Всем", scope="shared") == 403
    assert await create(SUPERVISOR, name="Общий", scope="shared") == 201
    assert await create(SUPERVISOR, name="Качество", scope="team", team="quality") == 201
    for bad in ({"name": ""}, {"name": "x", "scope": "team"}, {"name": "x", "team": "service"},
                {"name": "x", "body": "{{clinet}}"}, {"name": "x", "body": None}, {"name": "x", "action": "fly"},
                {"name": "x", "action": "resolve", "decision": "nonsense"},
                {"name": "x", "set_type": "complaint", "fields": {"contract_number": "1"}}):
        assert await create(AGENT, **bad) == 422, bad
    assert (await tickets.client.get("/api/v1/macros")).status_code == 401
    assert (await tickets.client.get("/api/v1/macros", headers={"Authorization": "Bearer service-token"})
            ).status_code == 403

    assert await names(tickets, AGENT) == ["Мой", "Общий", "Сервис"]
    assert await names(tickets, HEAD) == ["Общий", "Сервис"], "a colleague's personal macro is not listed"
    assert await names(tickets, QUALITY) == ["Качество", "Общий"]
    assert await names(tickets, SUPERVISOR) == ["Качество", "Общий", "Сервис"]

    listed = {m["name"]: m for m in (await tickets.client.get("/api/v1/macros", headers=AGENT)).json()}
    assert {name: m["may_edit"] for name, m in listed.items()} == {"Мой": True, "Общий": False, "Сервис": False}
    shared, mine = listed["Общий"]["id"], listed["Мой"]["id"]
    assert (await tickets.client.put(f"/api/v1/macros/{shared}", headers=AGENT,
                                     json={"name": "Взлом", "scope": "shared", "body": "x"})).status_code == 403
    assert (await tickets.client.delete(f"/api/v1/macros/{shared}", headers=AGENT)).status_code == 403
    assert (await tickets.client.delete(f"/api/v1/macros/{mine}", headers=HEAD)).status_code == 404
    changed = await tickets.client.put(f"/api/v1/macros/{mine}", headers=AGENT,
                                       json={"name": "Мой новый", "body": "Здравствуйте, {{client}}!"})
    assert changed.status_code == 200 and changed.json()["body"] == "Здравствуйте, {{client}}!", changed.text
    assert (await tickets.client.delete(f"/api/v1/macros/{mine}", headers=AGENT)).status_code == 204
    assert await names(tickets, AGENT) == ["Общий", "Сервис"]


async def test_applying_a_macro_changes_the_ticket_and_answers_its_text(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed(channel="email"))).number
    made = await tickets.client.post("/api/v1/macros", headers=HEAD, json={
        "name": "Договор и в работу", "scope": "team", "team": "service",
        "body": "{{client}}, ваша заявка {{number}} принята. {{agent}}",
        "fields": {"contract_number": "Д-17/2026"}, "action": "accept"})
    assert made.status_code == 201, made.text
    replies = await count_replies(tickets)

    applied = await tickets.client.post(f"/api/v1/tickets/{number}/macros/{made.json()['id']}/apply",
                                        headers=AGENT)
    assert applied.status_code == 200, applied.text
    assert applied.json()["text"] == f"ООО Ромашка, ваша заявка {number} принята. Иванова"
    ticket = applied.json()["ticket"]
    assert (ticket["status"], ticket["type_fields"]) == ("accepted", {"contract_number": "Д-17/2026"})
    assert [h["action"] for h in ticket["history"]][-2:] == ["fields_changed", "accept"]
    assert await count_replies(tickets) == replies, "the text goes to the reply box: no reply is sent"

    again = await tickets.client.post(f"/api/v1/tickets/{number}/macros/{made.json()['id']}/apply", headers=AGENT)
    assert again.status_code == 409, "the lifecycle refuses a second accept, and nothing else changes"
    assert (await tickets.client.post(f"/api/v1/tickets/{number}/macros/{made.json()['id']}/apply",
                                      headers=QUALITY)).status_code == 404, "not their ticket, not their macro"


async def test_a_macro_retypes_the_ticket_before_it_sets_the_new_types_fields(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed())).number
    made = await tickets.client.post("/api/v1/macros", headers=AGENT, json={
        "name": "Это претензия", "set_type": "complaint", "fields": {"claimed_amount": "15000", "product": "Плата"},
        "action": "review"})
    assert made.status_code == 201, made.text
    applied = await tickets.client.post(f"/api/v1/tickets/{number}/macros/{made.json()['id']}/apply", headers=AGENT)
    assert applied.status_code == 200, applied.text
    ticket = applied.json()["ticket"]
    assert (ticket["type"], ticket["status"]) == (ContactType.COMPLAINT, "review")
    assert ticket["type_fields"]["product"] == "Плата" and applied.json()["text"] is None

    wrong = await tickets.client.post("/api/v1/macros", headers=AGENT, json={
        "name": "Договор", "fields": {"contract_number": "Д-1"}})
    assert wrong.status_code == 201
    refused = await tickets.client.post(f"/api/v1/tickets/{number}/macros/{wrong.json()['id']}/apply",
                                        headers=AGENT)
    assert refused.status_code == 422, "a complaint has no contract number"


async def count_replies(tickets) -> int:  # noqa: ANN001 - the fixture
    """The agents' replies in the thread (the status notices an accepted ticket sends are not replies)."""
    async with tickets.database.sessions() as session:
        query = select(tables.ticket_messages.c.id).where(tables.ticket_messages.c.kind == "reply")
        return len((await session.execute(query)).all())
