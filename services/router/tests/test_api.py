"""The HTTP API on the started service: explain, rule book editing (validated, versioned, hot), teams, agents."""

from __future__ import annotations

from pathlib import Path

import httpx

from priyom_contracts import ContactType
from priyom_kit import build_app
from priyom_router.app import build
from priyom_router.learned import save_model
from priyom_router.model_fit import Example, fit
from priyom_router.rules import default_rule_text
from priyom_router.settings import RouterSettings
from priyom_testing.apps import started

from .conftest import ADMIN

QUESTION = {"channel": "web", "subject": "Вопрос", "body": "Подскажите часы работы",
            "received_at": "2026-11-25T09:00:00+00:00"}
BROKEN = {"channel": "email", "subject": "Сломалось", "body": "Терминал не запускается, нужен ремонт",
          "received_at": "2026-11-25T09:00:00+00:00"}


async def test_explain_returns_the_decision_without_counting_it(http: httpx.AsyncClient) -> None:
    for _ in range(2):
        response = await http.post("/api/v1/route/explain", json=BROKEN)
        assert response.status_code == 200, response.text
        decision = response.json()
        assert {k: decision[k] for k in ("type", "category", "team", "assignee", "priority", "rule")} == {
            "type": "service_request", "category": "service-no-contract", "team": "service",
            "assignee": "Олег Петров", "priority": 3, "rule": "fault"}
        assert decision["trail"][0] == "rule fault fired: keyword «не запускается»"
        assert decision["classifier"] is None  # a rule decided: the model was not asked
    agents = {a["name"]: a for a in (await http.get("/api/v1/agents")).json()}
    assert agents["Олег Петров"]["open_tickets"] == 0  # explaining created and counted nothing


async def test_explain_with_client_attributes(http: httpx.AsyncClient) -> None:
    body = {**BROKEN, "client": {"sla_tier": "premium", "account_manager": "Ирина Соколова",
                                 "contracts": [{"number": "СО-17", "valid_to": "2026-12-31"}]}}
    decision = (await http.post("/api/v1/route/explain", json=body)).json()
    assert (decision["rule"], decision["category"], decision["assignee"], decision["priority"]) == (
        "fault", "service", "Ирина Соколова", 2)
    assert "service under contract СО-17" in decision["trail"]


async def test_explain_says_when_it_cannot_read_the_card_of_client_id(http: httpx.AsyncClient) -> None:
    body = {**BROKEN, "client_id": "00000000-0000-4000-8000-000000000000"}
    decision = (await http.post("/api/v1/route/explain", json=body)).json()
    assert decision["trail"][0] == "client_id given but ROUTER_IDENTITY_URL is not set: default client attributes"
    assert decision["rule"] == "fault"


async def test_explain_needs_a_supervisor(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/v1/route/explain", json=QUESTION, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert (await http.post("/api/v1/route/explain", json={"channel": "Web!"})).status_code == 422


async def test_a_new_rule_book_takes_effect_at_once_and_is_versioned(http: httpx.AsyncClient) -> None:
    before = await http.get("/api/v1/rules")
    assert before.headers["X-Rules-Version"] == "0" and before.text == default_rule_text()
    asked = (await http.post("/api/v1/route/explain", json=QUESTION)).json()
    # No rule fires: the built-in model decides, and explain shows how sure it was and on which terms.
    assert (asked["rule"], asked["type"], asked["team"]) == ("classifier", "information_request", "support")
    view = asked["classifier"]
    assert view["confidence"] >= view["threshold"] and not view["triage"]
    assert view["guesses"][0] == {"type": "information_request", "probability": view["confidence"]}
    assert len(view["guesses"]) == 4 and view["terms"] and all(t["weight"] > 0 for t in view["terms"])

    new_rule = ("  - name: opening-hours\n    when: {keywords: [часы работы]}\n"
                "    then: {type: information_request, category: opening-hours}\n")
    edited = default_rule_text().replace("rules:\n", "rules:\n" + new_rule, 1)
    stored = await http.put("/api/v1/rules", content=edited.encode(), params={"comment": "часы работы"},
                            headers={"Content-Type": "application/yaml"})
    assert stored.status_code == 201, stored.text
    assert stored.json()["version"] == 1 and stored.json()["created_by"] == "admin"
    assert stored.json()["comment"] == "часы работы"
    decision = (await http.post("/api/v1/route/explain", json=QUESTION)).json()
    assert (decision["rule"], decision["category"], decision["rules_version"]) == ("opening-hours", "opening-hours", 1)

    restored = await http.post("/api/v1/rules/versions/1/restore")
    assert restored.json()["version"] == 2 and "restored from version 1" in restored.json()["comment"]
    history = (await http.get("/api/v1/rules/versions")).json()
    assert [v["version"] for v in history] == [2, 1]
    assert (await http.get("/api/v1/rules/versions/1")).text == edited
    assert (await http.get("/api/v1/rules/versions/9")).status_code == 404


async def test_a_broken_rule_book_is_refused_and_the_old_one_stays(http: httpx.AsyncClient) -> None:
    broken = default_rule_text().replace("      has_contract: true\n", "      has_contract: maybe\n", 1)
    response = await http.put("/api/v1/rules", content=broken.encode(),
                              headers={"Content-Type": "application/yaml"})
    assert response.status_code == 422
    problem = response.json()
    expected_line = next(i for i, line in enumerate(broken.splitlines(), 1) if "has_contract: maybe" in line)
    assert problem["line"] == expected_line and "has_contract" in problem["reason"]
    assert (await http.get("/api/v1/rules")).headers["X-Rules-Version"] == "0"
    assert (await http.post("/api/v1/route/explain", json=BROKEN)).json()["rule"] == "fault"

    not_yaml = await http.put("/api/v1/rules", content=b"rules: [\n", headers={"Content-Type": "application/yaml"})
    assert not_yaml.status_code == 422 and "not valid YAML" in not_yaml.json()["reason"]


async def test_teams_are_edited_through_the_api(http: httpx.AsyncClient) -> None:
    teams = (await http.get("/api/v1/teams")).json()
    service = next(t for t in teams if t["name"] == "service")
    service["members"] = ["Новый Инженер"]
    stored = await http.put("/api/v1/teams", json=teams)
    assert stored.status_code == 201, stored.text
    assert (await http.post("/api/v1/route/explain", json=BROKEN)).json()["assignee"] == "Новый Инженер"
    bad = [t for t in teams if t["name"] != "sales"]  # the assignment names a sales team
    refused = await http.put("/api/v1/teams", json=bad)
    assert refused.status_code == 422 and "sales" in refused.json()["reason"]


async def test_availability_changes_who_gets_the_next_contact(http: httpx.AsyncClient) -> None:
    response = await http.put("/api/v1/agents/Олег Петров/availability", json={"available": False})
    assert response.status_code == 204
    decision = (await http.post("/api/v1/route/explain", json=BROKEN)).json()
    assert decision["assignee"] == "Светлана Сидорова"
    agents = {a["name"]: a for a in (await http.get("/api/v1/agents")).json()}
    assert agents["Олег Петров"]["available"] is False and agents["Олег Петров"]["teams"] == ["service"]


async def explain_with(settings: RouterSettings, body: dict[str, object]) -> dict[str, object]:
    app = build_app(build(settings))
    async with started(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://router.test", headers=ADMIN) as c:
            return (await c.post("/api/v1/route/explain", json=body)).json()


async def test_the_classifier_can_be_turned_off_or_replaced_by_a_trained_file(settings: RouterSettings,
                                                                              tmp_path: Path) -> None:
    off = await explain_with(settings.model_copy(update={"classifier": False}), QUESTION)
    assert (off["rule"], off["classifier"]) == ("default", None)
    assert "no classifier loaded: default type" in off["trail"]

    # A file from make train-router (here a tiny model that thinks every question is a sale).
    path = tmp_path / "router-model.json"
    save_model(fit([Example(None, "подскажите часы работы", ContactType.PURCHASE_INTEREST, "t"),
                    Example(None, "не работает касса", ContactType.SERVICE_REQUEST, "t")]), path)
    trained = await explain_with(settings.model_copy(update={"model_file": path}), QUESTION)
    assert (trained["rule"], trained["type"], trained["team"]) == ("classifier", "purchase_interest", "sales")
