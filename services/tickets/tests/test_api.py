"""The HTTP API through the real app (lifespan, broker, database): roles, lists, detail, the public lookup."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from priyom_contracts import AttachmentRef, ContactType, utcnow
from priyom_tickets.settings import TicketsSettings

from .conftest import public_link

AGENT = {"Authorization": "Bearer agent-token"}
FORM_ORIGIN = "http://localhost:8002"

def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TICKETS_PORT", "TICKETS_CORS_ORIGINS", "TICKETS_DATABASE_URL", "DATABASE_URL",
                 "PRIYOM_BLOB_DIR"):
        monkeypatch.delenv(name, raising=False)
    defaults = TicketsSettings()
    assert defaults.port == 8000
    assert defaults.database_url.get_secret_value() == "sqlite+aiosqlite:///var/tickets.db"
    assert defaults.cors_origins == ["http://localhost:8002", "http://127.0.0.1:8002"]
    assert defaults.blob_dir == Path("var/blobs")

    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://db/shared")
    assert TicketsSettings().database_url.get_secret_value() == "postgresql+asyncpg://db/shared"
    monkeypatch.setenv("TICKETS_DATABASE_URL", "postgresql+asyncpg://db/tickets")
    monkeypatch.setenv("TICKETS_CORS_ORIGINS", '["https://forms.example.ru"]')
    monkeypatch.setenv("PRIYOM_BLOB_DIR", "/srv/blobs")
    settings = TicketsSettings()
    assert settings.database_url.get_secret_value() == "postgresql+asyncpg://db/tickets"
    assert settings.cors_origins == ["https://forms.example.ru"]
    assert settings.blob_dir == Path("/srv/blobs")


async def test_health_reports_broker_and_database(tickets) -> None:
    response = await tickets.client.get("/health")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"broker": True, "database": True}


@pytest.mark.parametrize("path", ["/api/v1/tickets", "/api/v1/tickets/{number}"])
async def test_agent_routes_need_a_token_and_a_staff_role(tickets, make_routed, path: str) -> None:
    created = await tickets.register(make_routed())
    path = path.format(number=created.number)
    async def status_with(token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return (await tickets.client.get(path, headers=headers)).status_code

    missing = await tickets.client.get(path)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert await status_with("nope") == 401
    assert await status_with("service-token") == 403
    assert await status_with("agent-token") == 200
    assert await status_with("supervisor-token") == 200
    assert await status_with("admin-token") == 200


async def test_list_filters_pages_and_orders_newest_first(tickets, make_routed) -> None:
    client_id = uuid.uuid4()
    first = await tickets.register(make_routed(client_id=client_id, channel="email", assignee="Иванова"))
    second = await tickets.register(make_routed(first_contact=False, team="sales"))
    third = await tickets.register(make_routed(client_id=client_id, first_contact=False))

    async def numbers(**params) -> list[str]:
        response = await tickets.client.get("/api/v1/tickets", params=params, headers=AGENT)
        assert response.status_code == 200, response.text
        return [item["number"] for item in response.json()["items"]]

    assert await numbers() == [third.number, second.number, first.number]
    assert await numbers(client_id=str(client_id)) == [third.number, first.number]
    assert await numbers(channel="email") == [first.number]
    assert await numbers(assignee="Иванова") == [first.number]
    assert await numbers(team="sales") == [second.number]
    assert await numbers(first_contact="false") == [third.number, second.number]
    assert await numbers(status="new") == [third.number, second.number, first.number]
    assert await numbers(status="closed") == []

    response = await tickets.client.get("/api/v1/tickets", params={"limit": 1, "offset": 1}, headers=AGENT)
    page = response.json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)
    item = page["items"][0]
    assert item["number"] == second.number
    for field in ("client_id", "first_contact", "type", "status", "channel", "assignee", "created_at", "team",
                  "urgency", "category", "first_response_due_at", "resolution_due_at", "subject"):
        assert field in item

    for bad in ({"limit": 201}, {"limit": 0}, {"offset": -1}, {"status": "lost"}, {"client_id": "x"}):
        assert (await tickets.client.get("/api/v1/tickets", params=bad, headers=AGENT)).status_code == 422


async def test_ticket_detail_has_messages_and_attachments(tickets, make_routed) -> None:
    content = "Акт сверки за ноябрь".encode()
    key = await tickets.blobs.put(content)
    event = make_routed(attachments=[AttachmentRef(blob_key=key, filename="акт сверки.txt",
                                                   content_type="text/plain", size=len(content))])
    created = await tickets.register(event)

    response = await tickets.client.get(f"/api/v1/tickets/{created.number}", headers=AGENT)
    assert response.status_code == 200, response.text
    ticket = response.json()
    assert ticket["number"] == created.number
    assert ticket["client_id"] == str(event.client.client_id)
    assert ticket["status"] == "new"
    assert ticket["subject"] == event.contact.subject
    assert ticket["routing_reason"] == event.routing.reason
    message, *notices = ticket["messages"]
    assert [(n["kind"], n["channel"]) for n in notices] == [("notice", "email")]  # to the e-mail left on the form
    assert (message["direction"], message["body_text"]) == ("inbound", event.contact.body)
    assert message["author_name"] == "Анна Петрова"
    [attachment] = message["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("акт сверки.txt", len(content))

    download = await tickets.client.get(
        f"/api/v1/tickets/{created.number}/attachments/{attachment['id']}", headers=AGENT)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    # An attachment is reachable only through its own ticket.
    other = await tickets.register(make_routed())
    assert (await tickets.client.get(f"/api/v1/tickets/{other.number}/attachments/{attachment['id']}",
                                     headers=AGENT)).status_code == 404

    assert (await tickets.client.get("/api/v1/tickets/1999-999999", headers=AGENT)).status_code == 404
    for malformed in ("0", "2026-123", "2026-0001234567", "abcd-000001"):
        assert (await tickets.client.get(f"/api/v1/tickets/{malformed}", headers=AGENT)).status_code == 422


async def test_public_lookup_is_404_until_the_ticket_exists(tickets, make_routed) -> None:
    event = make_routed()
    path = public_link(event.contact.contact_id)

    missing = await tickets.client.get(path)
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store"

    created = await tickets.register(event)
    found = await tickets.client.get(path)  # no token: the link's key is the capability
    assert found.status_code == 200
    assert found.headers["cache-control"] == "no-store"
    body = found.json()
    assert set(body) == {"number", "status", "created_at"}
    assert (body["number"], body["status"]) == (created.number, "new")
    assert (await tickets.client.get("/api/v1/contacts/not-a-uuid/ticket")).status_code == 422


async def test_public_links_are_rate_limited_per_address(tickets, make_routed) -> None:
    """A guesser's thousands of tries stop at the limit (LINK_RATE, 30 a minute here) with Retry-After."""
    answers = [await tickets.client.get(f"/api/v1/contacts/{uuid.uuid4()}/ticket") for _ in range(31)]
    assert {a.status_code for a in answers[:30]} == {404}
    assert answers[30].status_code == 429
    assert 1 <= int(answers[30].headers["retry-after"]) <= 60
    event = make_routed()
    await tickets.register(event)
    assert (await tickets.client.get(public_link(event.contact.contact_id))).status_code == 429  # even with a key


async def test_cors_opens_only_the_public_lookup_to_the_form_origin(tickets, make_routed) -> None:
    event = make_routed()
    await tickets.register(event)
    path = public_link(event.contact.contact_id)

    allowed = await tickets.client.get(path, headers={"Origin": FORM_ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == FORM_ORIGIN
    assert "access-control-allow-origin" not in (
        await tickets.client.get(path, headers={"Origin": "https://evil.example"})).headers

    preflight = await tickets.client.options(path, headers={"Origin": FORM_ORIGIN,
                                                            "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == FORM_ORIGIN

    staff = await tickets.client.get("/api/v1/tickets", headers={**AGENT, "Origin": FORM_ORIGIN})
    assert staff.status_code == 200
    assert "access-control-allow-origin" not in staff.headers


async def test_openapi_documents_the_routes(tickets) -> None:
    schema = (await tickets.client.get("/openapi.json")).json()
    assert {"/api/v1/tickets", "/api/v1/tickets/{number}", "/api/v1/contacts/{contact_id}/ticket"} <= set(
        schema["paths"])
    assert (await tickets.client.get("/docs")).status_code == 200


async def test_the_root_sends_a_browser_to_the_console(tickets) -> None:
    """Port 8000's root is what an agent types: it opens the console, a public page, with no token asked."""
    root = await tickets.client.get("/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/console"
    assert (await tickets.client.get("/", follow_redirects=True)).url.path == "/console"
    schema = (await tickets.client.get("/openapi.json")).json()
    assert schema["paths"]["/"]["get"]["x-priyom-roles"] == "public"


async def test_list_by_type_overdue_and_text(tickets, make_routed) -> None:
    now = utcnow()
    late = await tickets.register(make_routed(type=ContactType.COMPLAINT, subject="Брак партии",
                                              resolution_due_at=now - timedelta(hours=1)))
    on_time = await tickets.register(make_routed(subject="Счёт за октябрь", body="Пришлите, пожалуйста, акт",
                                                 resolution_due_at=now + timedelta(days=1)))
    late_but_resolved = await tickets.register(make_routed(subject=None, body="Проверьте 100% оплату",
                                                           resolution_due_at=now - timedelta(days=1)))
    for action, extra in (("accept", {}), ("resolve", {"decision": "fixed"})):
        moved = await tickets.client.post(f"/api/v1/tickets/{late_but_resolved.number}/transitions",
                                          headers=AGENT, json={"action": action, **extra})
        assert moved.status_code == 200, moved.text

    async def numbers(**params) -> list[str]:
        response = await tickets.client.get("/api/v1/tickets", params=params, headers=AGENT)
        assert response.status_code == 200, response.text
        return [item["number"] for item in response.json()["items"]]

    assert await numbers(type="complaint") == [late.number]
    assert await numbers(overdue="true") == [late.number]
    assert await numbers(overdue="false") == [late_but_resolved.number, on_time.number]
    assert await numbers(q=on_time.number) == [on_time.number]
    assert await numbers(q="партии") == [late.number]  # the subject
    assert await numbers(q="акт") == [on_time.number]  # a message
    assert await numbers(q="100%") == [late_but_resolved.number]  # LIKE wildcards are literal
    assert await numbers(q="%") == [late_but_resolved.number]
    assert await numbers(q="нет такого") == []
    assert await numbers(type="complaint", overdue="false") == []
    for bad in ({"type": "wish"}, {"overdue": "maybe"}, {"q": ""}, {"q": "x" * 201}):
        assert (await tickets.client.get("/api/v1/tickets", params=bad, headers=AGENT)).status_code == 422


def test_workflow_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TICKETS_TIMEZONE", "TICKETS_SLA_FILE", "TICKETS_TEAM_HEADS", "TICKETS_CLOSE_AFTER_SILENCE_DAYS"):
        monkeypatch.delenv(name, raising=False)
    defaults = TicketsSettings()
    assert (defaults.timezone, defaults.sla_file, defaults.team_heads) == ("Europe/Moscow", None, {})
    assert defaults.silence.days == 7
    monkeypatch.setenv("TICKETS_TIMEZONE", "Asia/Novosibirsk")
    monkeypatch.setenv("TICKETS_SLA_FILE", str(tmp_path / "sla.json"))
    monkeypatch.setenv("TICKETS_TEAM_HEADS", '{"service": "Петров"}')
    monkeypatch.setenv("TICKETS_CLOSE_AFTER_SILENCE_DAYS", "3")
    settings = TicketsSettings()
    assert str(settings.zone) == "Asia/Novosibirsk"
    assert settings.sla_file == tmp_path / "sla.json"
    assert settings.team_heads == {"service": "Петров"}
    assert settings.silence.days == 3
