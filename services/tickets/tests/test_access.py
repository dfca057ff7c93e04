"""Roles and per-team rules through the real app and its own staff accounts (SQLite and PostgreSQL):
what each role may see and do, and every refusal."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from priyom_kit.db import Database, Inbox
from priyom_testing.apps import started
from priyom_tickets.access import AccessPolicy, Staff, StaffRole, TeamRule, policy_from_mapping
from priyom_tickets.app import build, create_app
from priyom_tickets.arrivals import register_contact
from priyom_tickets.popups import caller_history
from priyom_tickets.settings import TicketsSettings

ADMIN = "access-test-admin-token"
# The quality team's complaints: engineers and the head see them, only the head acts; sales sees nothing there.
TEAM_ACCESS = {"quality": {"view": ["engineer", "team_head"], "act": ["team_head"]}}
ACCOUNTS = {
    "agent": ("Агентова", "agent", ["service"]),
    "engineer": ("Инженеров", "engineer", ["service", "quality"]),
    "team_head": ("Главова", "team_head", ["quality"]),
    "sales": ("Продажин", "sales", ["sales"]),
    "supervisor": ("Директоров", "supervisor", []),
}


@dataclass
class Office:
    client: httpx.AsyncClient
    tokens: dict[str, dict[str, str]]
    numbers: dict[str, str]


@pytest.fixture
async def office(migrated_url: str, cleanup_bus: str, amqp_url: str, tmp_path: Path, database: Database,
                 inbox: Inbox, make_routed) -> AsyncIterator[Office]:
    settings = TicketsSettings(TICKETS_DATABASE_URL=migrated_url, PRIYOM_BUS_PREFIX=cleanup_bus, AMQP_URL=amqp_url,
                               PRIYOM_BLOB_DIR=str(tmp_path / "blobs"), PRIYOM_ADMIN_TOKEN=ADMIN,
                               team_access=TEAM_ACCESS)
    app = create_app(build(settings))  # the service's own authenticator: staff accounts and the admin token
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://tickets.test") as client:
        tokens = {}
        for key, (name, role, teams) in ACCOUNTS.items():
            made = await client.post("/api/v1/staff", headers=bearer(ADMIN),
                                     json={"name": name, "role": role, "teams": teams})
            assert made.status_code == 201, made.text
            tokens[key] = bearer(made.json()["token"])
        numbers = {}
        for team, kw in (("service", {}), ("quality", {"type": "complaint"}), ("sales", {}),
                         ("service-assigned", {"assignee": "Продажин"})):
            created, _ = await register_contact(database.sessions, inbox,
                                                make_routed(team=team.split("-")[0], **kw))
            numbers[team] = created.number
        yield Office(client, tokens, numbers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def visible(office: Office, who: str) -> set[str]:
    response = await office.client.get("/api/v1/tickets", headers=office.tokens[who])
    assert response.status_code == 200, response.text
    numbers = {item["number"] for item in response.json()["items"]}
    assert response.json()["total"] == len(numbers)
    return {team for team, number in office.numbers.items() if number in numbers}


async def test_each_role_sees_its_teams_and_what_is_assigned_to_it(office: Office) -> None:
    assert await visible(office, "agent") == {"service", "service-assigned"}
    assert await visible(office, "engineer") == {"service", "quality", "service-assigned"}
    assert await visible(office, "team_head") == {"quality"}
    assert await visible(office, "sales") == {"sales", "service-assigned"}  # assigned to them personally
    assert await visible(office, "supervisor") == set(office.numbers)
    for who, team in (("agent", "quality"), ("sales", "service"), ("team_head", "sales")):
        hidden = await office.client.get(f"/api/v1/tickets/{office.numbers[team]}", headers=office.tokens[who])
        assert hidden.status_code == 404, (who, team)  # not even its existence


async def test_acting_needs_the_teams_act_rule(office: Office) -> None:
    complaint = office.numbers["quality"]

    async def review(who: str) -> int:
        return (await office.client.post(f"/api/v1/tickets/{complaint}/transitions", headers=office.tokens[who],
                                         json={"action": "review"})).status_code

    assert await review("engineer") == 403  # sees it, may not act
    refused = await office.client.post(f"/api/v1/tickets/{complaint}/replies", headers=office.tokens["engineer"],
                                       json={"body": "Смотрим"})
    assert refused.status_code == 403
    assert "may read but not act" in refused.json()["detail"]
    for path, body in (("activities", {"kind": "task", "title": "Замер", "owner": "Инженеров",
                                       "due_at": "2026-12-01T10:00:00+03:00"}),
                       ("escalations", {"level": "vendor", "to": "Вендор"})):
        assert (await office.client.post(f"/api/v1/tickets/{complaint}/{path}", headers=office.tokens["engineer"],
                                         json=body)).status_code == 403
    assert await review("agent") == 404
    assert await review("team_head") == 200
    assert await review("supervisor") == 409  # may act; the complaint is already in review
    own = await office.client.post(f"/api/v1/tickets/{office.numbers['service-assigned']}/transitions",
                                   headers=office.tokens["sales"], json={"action": "accept"})
    assert own.status_code == 200  # a ticket assigned to you is yours to work, whatever its team


async def test_correcting_a_type_follows_the_act_rule(office: Office) -> None:
    complaint = office.numbers["quality"]

    async def retype(who: str, to: str, number: str = complaint) -> int:
        headers = bearer(ADMIN) if who == "admin" else office.tokens[who]
        return (await office.client.post(f"/api/v1/tickets/{number}/type", headers=headers,
                                         json={"type": to})).status_code

    async def choices(who: str) -> list[str]:
        return (await office.client.get(f"/api/v1/tickets/{complaint}", headers=office.tokens[who])
                ).json()["type_choices"]

    assert await choices("engineer") == []  # sees it, may not act: the console offers no "change type"
    assert len(await choices("team_head")) == 3
    assert await retype("engineer", "service_request") == 403
    assert await retype("agent", "service_request") == 404  # another team's ticket: not even its existence
    assert await retype("sales", "service_request") == 404
    assert await retype("team_head", "service_request") == 200
    assert await retype("supervisor", "information_request") == 200
    assert await retype("admin", "complaint") == 200
    assert await retype("agent", "purchase_interest", office.numbers["service"]) == 200  # own team's ticket
    assert await retype("sales", "complaint", office.numbers["service-assigned"]) == 200  # assigned to them


async def test_reports_staff_accounts_and_others_lists_are_refused_below_their_role(office: Office) -> None:
    for who in ("agent", "engineer", "team_head", "sales"):
        assert (await office.client.get("/api/v1/reports/tickets", headers=office.tokens[who])).status_code == 403
        assert (await office.client.get("/api/v1/staff", headers=office.tokens[who])).status_code == 403
        assert (await office.client.post("/api/v1/staff", headers=office.tokens[who],
                                         json={"name": "x", "role": "admin"})).status_code == 403
    assert (await office.client.get("/api/v1/reports/tickets", headers=office.tokens["supervisor"])).status_code == 200
    assert (await office.client.get("/api/v1/staff", headers=office.tokens["supervisor"])).status_code == 403
    listing = await office.client.get("/api/v1/staff", headers=bearer(ADMIN))
    assert {s["name"] for s in listing.json()} == {name for name, _, _ in ACCOUNTS.values()}
    assert all("token" not in s for s in listing.json())
    again = await office.client.post("/api/v1/staff", headers=bearer(ADMIN), json={"name": "Агентова", "role": "agent"})
    assert again.status_code == 409
    assert (await office.client.post("/api/v1/staff", headers=bearer(ADMIN),
                                     json={"name": "x", "role": "king"})).status_code == 422

    others = "/api/v1/activities?owner=Инженеров"
    assert (await office.client.get(others, headers=office.tokens["agent"])).status_code == 403
    assert (await office.client.get(others, headers=office.tokens["team_head"])).status_code == 200
    assert (await office.client.get("/api/v1/tickets", headers=bearer("forged-token"))).status_code == 401
    assert (await office.client.get("/api/v1/tickets", headers=bearer("x" * 5000))).status_code == 401


def test_the_rules_alone() -> None:
    policy = policy_from_mapping(TEAM_ACCESS)
    ticket = {"team": "quality", "assignee": None}
    head = Staff("Главова", staff_role=StaffRole.TEAM_HEAD, teams=frozenset({"quality"}))
    engineer = Staff("Инженеров", staff_role=StaffRole.ENGINEER, teams=frozenset({"quality"}))
    outsider = Staff("Агентова", staff_role=StaffRole.AGENT, teams=frozenset({"service"}))
    assert (policy.may_view(head, ticket), policy.may_act(head, ticket)) == (True, True)
    assert (policy.may_view(engineer, ticket), policy.may_act(engineer, ticket)) == (True, False)
    assert (policy.may_view(outsider, ticket), policy.may_act(outsider, ticket)) == (False, False)
    assert policy.visible_teams(Staff("Д", staff_role=StaffRole.SUPERVISOR)) is None
    assert AccessPolicy().rule("anything") == TeamRule(AccessPolicy().default.view, AccessPolicy().default.act)
    with pytest.raises(ValueError):
        policy_from_mapping({"quality": {"view": ["wizard"]}})


async def test_a_team_head_reads_anothers_list_only_for_their_own_teams(office: Office) -> None:
    """The attack: the quality head lists the engineer's activities and learns of service tickets she may not
    see. The engineer (service and quality) has one activity on each."""
    for team in ("service", "quality"):
        made = await office.client.post(f"/api/v1/tickets/{office.numbers[team]}/activities",
                                        headers=office.tokens["supervisor"],
                                        json={"kind": "task", "title": f"Проверить {team}", "owner": "Инженеров",
                                              "due_at": "2030-01-01T10:00:00Z"})
        assert made.status_code == 201, made.text
    others = "/api/v1/activities?owner=Инженеров"
    as_head = (await office.client.get(others, headers=office.tokens["team_head"])).json()
    assert [a["number"] for a in as_head] == [office.numbers["quality"]]
    as_supervisor = (await office.client.get(others, headers=office.tokens["supervisor"])).json()
    assert sorted(a["number"] for a in as_supervisor) == sorted(office.numbers[t] for t in ("service", "quality"))
    own = (await office.client.get("/api/v1/activities", headers=office.tokens["engineer"])).json()
    assert len(own) == 2  # one's own list is whole


async def test_a_pop_up_lists_only_the_tickets_its_agent_may_see(database: Database, make_routed, inbox: Inbox
                                                                ) -> None:
    """The attack: a sales agent's phone rings for a client with a quality complaint; the pop-up must not
    list it (nor its messages), while the sales ticket and one assigned to the agent are shown."""
    client_id = uuid.uuid4()
    seen = {}
    for team, extra in (("quality", {"type": "complaint"}), ("sales", {}), ("service", {"assignee": "Продажин"})):
        created, _ = await register_contact(database.sessions, inbox, make_routed(
            client_id=client_id, team=team, first_contact=False, subject=f"Тема {team}", **extra))
        seen[team] = created.number
    sales = Staff("Продажин", staff_role=StaffRole.SALES, teams=frozenset({"sales"}))
    policy = policy_from_mapping(TEAM_ACCESS)
    async with database.sessions() as session:
        shown = await caller_history(session, client_id, policy.viewer(sales))
        everything = await caller_history(session, client_id, None)
    assert {t.number for t in shown.open_tickets} == {seen["sales"], seen["service"]}
    assert {c.ticket_number for c in shown.last_contacts} == {seen["sales"], seen["service"]}
    assert {t.number for t in everything.open_tickets} == set(seen.values())  # a supervisor's pop-up
