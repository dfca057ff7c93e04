"""Fields only some ticket types have: validated per type, set through the API with a history line, and the
console's page and its ``/api/v1/me`` (SQLite and PostgreSQL where a database is involved)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from priyom_contracts import ContactType
from priyom_tickets import type_fields
from priyom_tickets.type_fields import InvalidFields

AGENT = {"Authorization": "Bearer agent-token"}


@pytest.mark.parametrize(("ticket_type", "values", "stored"), [
    (ContactType.COMPLAINT, {"claimed_amount": "15000.50", "product": " Котёл КС-20 ", "resolution": "замена"},
     {"claimed_amount": "15000.50", "product": "Котёл КС-20", "resolution": "замена"}),
    (ContactType.COMPLAINT, {"claimed_amount": 1200}, {"claimed_amount": "1200"}),
    (ContactType.SERVICE_REQUEST, {"contract_number": "СО-2024/117"}, {"contract_number": "СО-2024/117"}),
    (ContactType.PURCHASE_INTEREST, {"product": "Горелка", "budget": None}, {"product": "Горелка"}),
    (ContactType.INFORMATION_REQUEST, {}, {}),
])
def test_each_type_accepts_its_own_fields(ticket_type: ContactType, values: dict, stored: dict) -> None:
    assert type_fields.validate(ticket_type, values) == stored
    assert Decimal(stored.get("claimed_amount", "0")) >= 0


@pytest.mark.parametrize(("ticket_type", "values", "why"), [
    (ContactType.COMPLAINT, {"contract_number": "1"}, "contract_number: Extra inputs are not permitted"),
    (ContactType.COMPLAINT, {"claimed_amount": -1}, "claimed_amount: Input should be greater than or equal to 0"),
    (ContactType.COMPLAINT, {"claimed_amount": "1.005"}, "claimed_amount: Decimal input should have no more"),
    (ContactType.SERVICE_REQUEST, {"contract_number": "12 34"}, "contract_number: String should match pattern"),
    (ContactType.PURCHASE_INTEREST, {"budget": "много"}, "budget: Input should be a valid decimal"),
    (ContactType.INFORMATION_REQUEST, {"product": "x"}, "product: Extra inputs are not permitted"),
])
def test_fields_of_another_type_or_bad_values_are_refused(ticket_type: ContactType, values: dict,
                                                          why: str) -> None:
    with pytest.raises(InvalidFields, match=why.replace("(", r"\(")):
        type_fields.validate(ticket_type, values)


def test_the_console_draws_its_form_from_the_declaration() -> None:
    described = type_fields.describe()
    assert set(described) == {t.value for t in ContactType}
    assert described["complaint"] == [
        {"name": "claimed_amount", "title": "Сумма претензии, ₽", "kind": "number"},
        {"name": "product", "title": "Изделие", "kind": "text"},
        {"name": "resolution", "title": "Требование клиента (ремонт, замена, возврат)", "kind": "text"}]
    assert [f["name"] for f in described["service_request"]] == ["contract_number"]
    assert described["information_request"] == []


async def test_fields_are_set_through_the_api_with_their_history(tickets, make_routed) -> None:
    complaint = await tickets.register(make_routed(type=ContactType.COMPLAINT, category="complaint"))
    url = f"/api/v1/tickets/{complaint.number}/fields"

    assert (await tickets.client.get("/api/v1/ticket-fields", headers=AGENT)).json() == type_fields.describe()
    first = await tickets.client.put(url, headers=AGENT, json={"claimed_amount": 15000, "product": "Котёл"})
    assert first.status_code == 200, first.text
    assert first.json()["type_fields"] == {"claimed_amount": "15000", "product": "Котёл"}
    second = await tickets.client.put(url, headers=AGENT, json={"claimed_amount": "12000.00", "product": "Котёл",
                                                                "resolution": "ремонт"})
    assert second.json()["type_fields"] == {"claimed_amount": "12000.00", "product": "Котёл",
                                            "resolution": "ремонт"}
    lines = [h for h in second.json()["history"] if h["action"] == "fields_changed"]
    assert [h["actor"] for h in lines] == ["Иванова", "Иванова"]
    assert lines[1]["details"] == {"claimed_amount": {"from": "15000", "to": "12000.00"},
                                   "resolution": {"from": None, "to": "ремонт"}}

    # The same values again change nothing and write no line.
    same = await tickets.client.put(url, headers=AGENT, json={"claimed_amount": "12000.00", "product": "Котёл",
                                                              "resolution": "ремонт"})
    assert len([h for h in same.json()["history"] if h["action"] == "fields_changed"]) == 2

    wrong = await tickets.client.put(url, headers=AGENT, json={"contract_number": "СО-1"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["contract_number"]
    listed = (await tickets.client.get("/api/v1/tickets", headers=AGENT)).json()["items"][0]
    assert listed["type_fields"]["resolution"] == "ремонт"


async def test_fields_need_the_right_to_act_and_an_open_ticket(tickets, make_routed) -> None:
    request = await tickets.register(make_routed(type=ContactType.SERVICE_REQUEST))
    url = f"/api/v1/tickets/{request.number}/fields"
    assert (await tickets.client.put(url, json={"contract_number": "1"})).status_code == 401
    assert (await tickets.client.put(url, headers={"Authorization": "Bearer service-token"},
                                     json={"contract_number": "1"})).status_code == 403
    cancelled = await tickets.client.post(f"/api/v1/tickets/{request.number}/transitions", headers=AGENT,
                                          json={"action": "cancel", "decision": "withdrawn"})
    assert cancelled.status_code == 200, cancelled.text
    late = await tickets.client.put(url, headers=AGENT, json={"contract_number": "СО-1"})
    assert late.status_code == 409


async def test_console_page_carries_a_strict_csp_and_serves_only_its_own_files(tickets) -> None:
    page = await tickets.client.get("/console")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert '<script src="/console/console.js" defer></script>' in page.text
    script = await tickets.client.get("/console/console.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text.replace("There is no innerHTML here", "")
    assert (await tickets.client.get("/console/../settings.py")).status_code == 404
    assert (await tickets.client.get("/console/console.html")).status_code == 404


async def test_me_says_who_the_token_belongs_to(tickets) -> None:
    agent = await tickets.client.get("/api/v1/me", headers=AGENT)
    assert agent.json() == {"name": "Иванова", "role": "agent", "teams": ["sales", "service"],
                            "sees_all": False, "extension": None, "telephony": False, "knowledge_base": False,
                            "locale": None, "time_zone": None}
    supervisor = await tickets.client.get("/api/v1/me", headers={"Authorization": "Bearer supervisor-token"})
    assert (supervisor.json()["role"], supervisor.json()["sees_all"]) == ("supervisor", True)
    assert (await tickets.client.get("/api/v1/me")).status_code == 401
