"""The client-card API through the real app (database and bus started), with bearer auth and roles."""

from __future__ import annotations

import uuid

import httpx
import pytest

from priyom_kit import Principal, Role, ServiceParts

from .conftest import ADMIN, unique_email

AGENT = {"Authorization": "Bearer agent-token"}


@pytest.fixture
def parts(parts: ServiceParts) -> ServiceParts:
    """Identity with one more principal: an agent, who may read cards but not create them."""

    async def authenticate(token: str) -> Principal | None:
        if token == "agent-token":
            return Principal("agent-1", frozenset({Role.AGENT}))
        if token == "test-admin-token":
            return Principal("admin", frozenset({Role.ADMIN}))
        return None

    parts.authenticator = authenticate
    return parts


def new_card(email: str, **overrides: object) -> dict[str, object]:
    card: dict[str, object] = {
        "kind": "org", "name": "ООО Ромашка", "sla_tier": "premium", "account_manager": "Иванова",
        "phones": ["+7 495 700-20-01"],
        "persons": [{"full_name": "Пётр Сидоров", "position": "бухгалтер", "emails": [email],
                     "phones": ["8 (916) 700-20-01 доб. 12"]}],
    }
    card.update(overrides)
    return card


async def test_created_card_is_found_by_any_spelling(client: httpx.AsyncClient) -> None:
    email = unique_email()
    created = await client.post("/api/v1/clients", json=new_card(email), headers=ADMIN)
    assert created.status_code == 201, created.text
    card = created.json()
    assert card["provisional"] is False and card["account_manager"] == "Иванова"
    (person,) = card["persons"]
    assert (person["full_name"], person["position"]) == ("Пётр Сидоров", "бухгалтер")
    assert {(i["kind"], i["value"], i["extension"], i["person_id"]) for i in card["identifiers"]} == {
        ("phone", "+74957002001", None, None), ("phone", "+79167002001", "12", person["id"]),
        ("email", email, None, person["id"])}

    ids = {i["value"]: i["id"] for i in card["identifiers"]}
    for params, matched in (({"phone": "89167002001"}, "+79167002001"), ({"phone": "+7 (495) 700-20-01"}, "+74957002001"),
                            ({"email": email.upper()}, email),
                            ({"phone": "+79167002001", "email": "someone.else@example.ru"}, "+79167002001")):
        found = await client.get("/api/v1/clients/lookup", params=params, headers=AGENT)
        assert found.status_code == 200, (params, found.text)
        # The lookup also names the identifier it found the card by (the portal signs in with that one only).
        assert found.json() == card | {"matched_identifier": ids[matched]}
    by_id = await client.get(f"/api/v1/clients/{card['id']}", headers=AGENT)
    assert by_id.status_code == 200 and by_id.json() == card


async def test_lookup_answers_404_and_422(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/clients/lookup", params={"email": unique_email()}, headers=AGENT)
    assert missing.status_code == 404
    garbage = await client.get("/api/v1/clients/lookup", params={"phone": "ноль"}, headers=AGENT)
    assert garbage.status_code == 422 and "no digits" in garbage.json()["detail"]
    extension = await client.get("/api/v1/clients/lookup", params={"phone": "101"}, headers=AGENT)
    assert extension.status_code == 422
    nothing = await client.get("/api/v1/clients/lookup", headers=AGENT)
    assert nothing.status_code == 422
    bad_email = await client.get("/api/v1/clients/lookup", params={"email": "not-an-email"}, headers=AGENT)
    assert bad_email.status_code == 422
    unknown_id = await client.get(f"/api/v1/clients/{uuid.uuid4()}", headers=AGENT)
    assert unknown_id.status_code == 404


async def test_identifier_of_another_card_is_a_conflict(client: httpx.AsyncClient) -> None:
    email = unique_email()
    assert (await client.post("/api/v1/clients", json=new_card(email), headers=ADMIN)).status_code == 201
    clash = await client.post("/api/v1/clients", headers=ADMIN,
                              json={"name": "Другая", "kind": "person", "emails": [email.upper()]})
    assert clash.status_code == 409 and "email" in clash.json()["detail"]
    bad_phone = await client.post("/api/v1/clients", headers=ADMIN,
                                  json={"name": "Третья", "phones": ["+7 000 000 00 00"]})
    assert bad_phone.status_code == 422
    bad_kind = await client.post("/api/v1/clients", headers=ADMIN, json={"name": "X", "kind": "robot"})
    assert bad_kind.status_code == 422


async def test_every_route_needs_a_token_and_a_role(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/clients/lookup", params={"email": "a@example.ru"})).status_code == 401
    wrong = {"Authorization": "Bearer wrong"}
    assert (await client.get(f"/api/v1/clients/{uuid.uuid4()}", headers=wrong)).status_code == 401
    forbidden = await client.post("/api/v1/clients", json=new_card(unique_email()), headers=AGENT)
    assert forbidden.status_code == 403


async def test_health_reports_database_and_broker(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    assert health.status_code == 200
    assert health.json()["checks"] == {"broker": True, "database": True}
