"""The card-care API through the real app: search, edit, persons, history, merge, erasure, duplicates, import."""

from __future__ import annotations

import uuid

import httpx
import pytest

from priyom_kit import Principal, Role, ServiceParts

from .conftest import ADMIN, unique_email

AGENT = {"Authorization": "Bearer agent-token"}
SUPERVISOR = {"Authorization": "Bearer supervisor-token"}


@pytest.fixture
def parts(parts: ServiceParts) -> ServiceParts:
    """Identity with an agent and a supervisor besides the admin."""
    principals = {"agent-token": Principal("agent-1", frozenset({Role.AGENT})),
                  "supervisor-token": Principal("supervisor-1", frozenset({Role.SUPERVISOR})),
                  "test-admin-token": Principal("admin", frozenset({Role.ADMIN}))}

    async def authenticate(token: str) -> Principal | None:
        return principals.get(token)

    parts.authenticator = authenticate
    return parts


async def create(client: httpx.AsyncClient, **card: object) -> dict:
    response = await client.post("/api/v1/clients", json=card, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def test_search_by_name_fragment_and_phone_digits(client: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:6]
    card = await create(client, name=f"ООО «Северный ветер {tag}»", phones=["+7 495 720-00-01"])
    await create(client, name=f"ИП Южный {tag}", kind="person")
    by_name = await client.get("/api/v1/clients", params={"q": f"СЕВЕРНЫЙ ВЕТЕР {tag.upper()}"}, headers=AGENT)
    assert by_name.status_code == 200 and [c["id"] for c in by_name.json()] == [card["id"]]
    by_phone = await client.get("/api/v1/clients", params={"phone": "720-00-01"}, headers=AGENT)
    assert [c["id"] for c in by_phone.json()] == [card["id"]]
    assert by_phone.json()[0]["name"] == card["name"] and "identifiers" not in by_phone.json()[0]
    assert (await client.get("/api/v1/clients", params={"q": tag}, headers=AGENT)).json().__len__() == 2
    assert (await client.get("/api/v1/clients", params={"phone": "12"}, headers=AGENT)).status_code == 422
    assert (await client.get("/api/v1/clients", headers=AGENT)).status_code == 422
    literal = await client.get("/api/v1/clients", params={"q": "%%"}, headers=AGENT)
    assert literal.status_code == 200 and literal.json() == [], "wildcards are searched literally"


async def test_agent_completes_a_provisional_card(client: httpx.AsyncClient) -> None:
    card = await create(client, name="Гость", kind="person")
    assert card["missing_fields"] == ["full_name", "region"]
    edited = await client.patch(f"/api/v1/clients/{card['id']}", headers=AGENT, json={
        "kind": "org", "name": "ООО Вектор", "legal_id": "7707083893", "region": "Москва",
        "account_manager": "Иванова", "tags": ["b2b"],
        "contracts": [{"number": "Д-1", "service": "аренда", "valid_from": "2026-01-01"}]})
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["kind"], body["legal_id"], body["tags"]) == ("org", "7707083893", ["b2b"])
    assert body["contracts"] == [{"number": "Д-1", "service": "аренда", "valid_from": "2026-01-01",
                                  "valid_to": None}]
    assert body["missing_fields"] == ["contact_person"]
    person = await client.post(f"/api/v1/clients/{card['id']}/persons", headers=AGENT, json={
        "full_name": "Ольга Ким", "role": "consumer", "phones": ["8 916 720-00-02"]})
    assert person.status_code == 201, person.text
    assert person.json()["missing_fields"] == []
    (added,) = person.json()["persons"]
    renamed = await client.patch(f"/api/v1/clients/{card['id']}/persons/{added['id']}", headers=AGENT,
                                 json={"position": "главный инженер", "role": "representative"})
    assert renamed.json()["persons"][0]["position"] == "главный инженер"
    clash = await client.post(f"/api/v1/clients/{card['id']}/persons", headers=AGENT, json={
        "full_name": "Двойник", "phones": ["+79167200002"]})
    assert clash.status_code == 409
    assert (await client.patch(f"/api/v1/clients/{card['id']}", headers=AGENT,
                               json={"name": None})).status_code == 422
    assert (await client.patch(f"/api/v1/clients/{uuid.uuid4()}", headers=AGENT, json={})).status_code == 404
    assert (await client.patch(f"/api/v1/clients/{card['id']}", headers=AGENT,
                               json={"legal_id": "ИНН 7707"})).status_code == 422


async def test_merge_through_the_api_redirects_the_old_id(client: httpx.AsyncClient) -> None:
    target = await create(client, name="ООО Ромашка", phones=["+7 495 720-00-03"])
    source = await create(client, name="Ромашка ООО", kind="org", emails=[unique_email()])
    suggested = await client.get(f"/api/v1/clients/{target['id']}/duplicates", headers=AGENT)
    assert suggested.status_code == 200
    assert [(d["client_id"], d["reason"]) for d in suggested.json()["cards"]] == [(source["id"], "similar name")]
    forbidden = await client.post(f"/api/v1/clients/{target['id']}/merge", headers=AGENT,
                                  json={"source_id": source["id"]})
    assert forbidden.status_code == 403
    merged = await client.post(f"/api/v1/clients/{target['id']}/merge", headers=SUPERVISOR,
                               json={"source_id": source["id"]})
    assert merged.status_code == 200, merged.text
    assert {i["value"] for i in merged.json()["identifiers"]} == {
        i["value"] for i in target["identifiers"] + source["identifiers"]}
    old = await client.get(f"/api/v1/clients/{source['id']}", headers=AGENT, follow_redirects=False)
    assert old.status_code == 308 and old.headers["location"].endswith(target["id"])
    again = await client.post(f"/api/v1/clients/{target['id']}/merge", headers=SUPERVISOR,
                              json={"source_id": source["id"]})
    assert again.status_code == 404
    itself = await client.post(f"/api/v1/clients/{target['id']}/merge", headers=SUPERVISOR,
                               json={"source_id": target["id"]})
    assert itself.status_code == 422


async def test_a_merge_is_undone_through_the_api(client: httpx.AsyncClient) -> None:
    target = await create(client, name="ООО Ландыш", phones=["+7 495 720-00-31"])
    source = await create(client, name="Ландыш ООО", persons=[{"full_name": "Пётр Ландышев",
                                                               "emails": [unique_email()]}])
    merged = await client.post(f"/api/v1/clients/{target['id']}/merge", headers=SUPERVISOR,
                               json={"source_id": source["id"]})
    assert merged.status_code == 200
    path = f"/api/v1/clients/{target['id']}/merges/{source['id']}/undo"
    assert (await client.post(path, headers=AGENT)).status_code == 403
    undone = await client.post(path, headers=SUPERVISOR)
    assert undone.status_code == 200, undone.text
    assert undone.json()["id"] == source["id"] and undone.json()["identifiers"] == source["identifiers"]
    back = await client.get(f"/api/v1/clients/{source['id']}", headers=AGENT, follow_redirects=False)
    assert back.status_code == 200 and back.json()["persons"][0]["full_name"] == "Пётр Ландышев"
    target_now = await client.get(f"/api/v1/clients/{target['id']}", headers=AGENT)
    assert target_now.json()["identifiers"] == target["identifiers"]
    assert (await client.post(path, headers=SUPERVISOR)).status_code == 404


async def test_erasure_needs_a_supervisor_and_keeps_the_history(client: httpx.AsyncClient,
                                                                parts: ServiceParts) -> None:
    from .conftest import contact_event
    from .test_bus import open_tap

    email = unique_email()
    card = await create(client, name="Анна Смирнова", kind="person",
                        persons=[{"full_name": "Анна Смирнова", "emails": [email]}])
    tap_gen = open_tap(parts.settings.amqp_url.get_secret_value(), parts.settings.bus_prefix,
                       "contact.identified.v1.*")
    tap = await anext(tap_gen)
    await parts.bus.publish(contact_event(email=email))
    assert (await tap.identified()).client.client_id == uuid.UUID(card["id"])
    await tap_gen.aclose()
    person_id = card["persons"][0]["id"]
    assert (await client.post(f"/api/v1/persons/{person_id}/erase", headers=AGENT)).status_code == 403
    erased = await client.post(f"/api/v1/persons/{person_id}/erase", headers=SUPERVISOR)
    assert erased.status_code == 200 and erased.json()["client_id"] == card["id"]
    after = (await client.get(f"/api/v1/clients/{card['id']}", headers=AGENT)).json()
    assert after["identifiers"] == [] and after["persons"][0]["erased"] is True and "Анна" not in str(after)
    history = await client.get(f"/api/v1/clients/{card['id']}/history", headers=AGENT)
    assert [(h["channel"], h["person_id"]) for h in history.json()] == [("web", person_id)]
    gone = await client.get("/api/v1/clients/lookup", params={"email": email}, headers=AGENT)
    assert gone.status_code == 404
    assert (await client.post(f"/api/v1/persons/{uuid.uuid4()}/erase", headers=SUPERVISOR)).status_code == 404


async def test_csv_import_reports_bad_rows_and_loads_the_rest(client: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:6]
    existing = await create(client, name=f"АО Вектор {tag}", phones=["+7 495 720-00-09"])
    csv_text = (
        "ФИО;Компания;Телефоны;Почта;Менеджер\n"
        f"Пётр Сидоров;ООО Ромашка {tag};8 (916) 720-00-10, +7 916 720-00-11;petr@romashka-{tag}.ru;Иванова\n"
        f"Анна Смирнова;ООО Ромашка {tag};;anna@romashka-{tag}.ru;Иванова\n"
        f"Ольга Ким;АО ВЕКТОР {tag};+7 916 720-00-12;;\n"
        f"Частник Иван;;89167200013;;\n"
        f"Захватчик;ООО Другая {tag};+7 495 720-00-09;;\n"
        f"Мусор;ООО Другая {tag};не скажу;;\n"
    )
    response = await client.post("/api/v1/clients/import", content=csv_text.encode("cp1251"), headers={
        **ADMIN, "Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    report = response.json()
    # Ромашка and the private client are new; Вектор is on file; «Другая» had only rejected rows.
    assert (report["cards_created"], report["persons_added"], report["rows_rejected"]) == (2, 4, 2)
    assert [e["line"] for e in report["errors"]] == [6, 7]
    assert "another card" in report["errors"][0]["reason"]
    vector = (await client.get(f"/api/v1/clients/{existing['id']}", headers=AGENT)).json()
    assert [p["full_name"] for p in vector["persons"]] == ["Ольга Ким"], "joined the company on file"
    found = await client.get("/api/v1/clients/lookup", params={"phone": "+7 916 720 00 11"}, headers=AGENT)
    assert found.json()["name"] == f"ООО Ромашка {tag}" and found.json()["account_manager"] == "Иванова"
    assert len(found.json()["persons"]) == 2
    refused = await client.post("/api/v1/clients/import", content=b"foo,bar\n1,2\n", headers=ADMIN)
    assert refused.status_code == 422 and "header" in refused.json()["detail"]
    assert (await client.post("/api/v1/clients/import", content=b"name\nx\n", headers=AGENT)).status_code == 403


async def test_import_larger_than_the_limit_is_refused(client: httpx.AsyncClient, parts: ServiceParts) -> None:
    limit = parts.settings.import_max_bytes  # type: ignore[attr-defined]
    big = b"name,company\n" + b"x,y\n" * (limit // 4 + 1)
    response = await client.post("/api/v1/clients/import", content=big, headers=ADMIN)
    assert response.status_code == 413


async def test_person_with_messenger_and_portal_login_and_card_deletion(client: httpx.AsyncClient) -> None:
    card = await create(client, name="ООО Гамма", persons=[{
        "full_name": "Ирина Ли", "messengers": [{"channel": "telegram", "user_id": "740000001"}],
        "portal_login": "Irina.Li"}])
    kinds = {(i["kind"], i["value"]) for i in card["identifiers"]}
    assert kinds == {("messenger:telegram", "740000001"), ("portal", "irina.li")}
    found = await client.get("/api/v1/clients/lookup", headers=AGENT,
                             params={"messenger": "telegram", "messenger_id": "740000001"})
    assert found.status_code == 200 and found.json()["id"] == card["id"]
    taken = await client.post(f"/api/v1/clients/{card['id']}/persons", headers=AGENT, json={
        "full_name": "Кто-то", "portal_login": "IRINA.LI"})
    assert taken.status_code == 409
    assert (await client.delete(f"/api/v1/clients/{card['id']}", headers=AGENT)).status_code == 403
    assert (await client.delete(f"/api/v1/clients/{card['id']}", headers=SUPERVISOR)).status_code == 204
    assert (await client.get(f"/api/v1/clients/{card['id']}", headers=AGENT)).status_code == 404
    gone = await client.get("/api/v1/clients/lookup", headers=AGENT,
                            params={"messenger": "telegram", "messenger_id": "740000001"})
    assert gone.status_code == 404
    assert (await client.delete(f"/api/v1/clients/{card['id']}", headers=SUPERVISOR)).status_code == 404


async def test_an_unknown_caller_number_is_added_to_a_known_person(client: httpx.AsyncClient) -> None:
    """zammad/zammad#2144: the agent assigns the "maybe" number to the client it turned out to be."""
    card = await create(client, name="ООО Дельта", persons=[{"full_name": "Олег Ан", "phones": ["+7 916 750-00-01"]}])
    person_id = card["persons"][0]["id"]
    unknown = await client.get("/api/v1/clients/lookup", params={"phone": "8 916 750-00-02"}, headers=AGENT)
    assert unknown.status_code == 404
    added = await client.post(f"/api/v1/clients/{card['id']}/persons/{person_id}/identifiers", headers=AGENT,
                              json={"phones": ["8 916 750-00-02"], "emails": ["Oleg@Delta.example"]})
    assert added.status_code == 201, added.text
    assert {(i["value"], i["person_id"]) for i in added.json()["identifiers"]} == {
        ("+79167500001", person_id), ("+79167500002", person_id), ("oleg@delta.example", person_id)}
    known = await client.get("/api/v1/clients/lookup", params={"phone": "+79167500002"}, headers=AGENT)
    assert known.status_code == 200 and known.json()["id"] == card["id"]
    again = await client.post(f"/api/v1/clients/{card['id']}/persons/{person_id}/identifiers", headers=AGENT,
                              json={"phones": ["+79167500001"]})
    assert again.status_code == 409
    stranger = await client.post(f"/api/v1/clients/{card['id']}/persons/{uuid.uuid4()}/identifiers",
                                 headers=AGENT, json={"phones": ["+79167500003"]})
    assert stranger.status_code == 404
