"""The client panel's card: tickets reads it from a real identity process, trimmed for agents.

Identity runs as it does in production (its own app under uvicorn on a free port, its own migrated database,
SQLite and PostgreSQL as identity's own tests); tickets runs its app with ``TICKETS_IDENTITY_URL`` pointing
there and the shared admin token as its credential. Who may see the ticket may see the card; when identity
is down or not configured the answer is ``available: false`` and the ticket itself still opens.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn

from priyom_contracts import Contact, Sender, utcnow
from priyom_identity.app import build as build_identity
from priyom_identity.canonical_identifiers import DEFAULT_EMAIL_RULES
from priyom_identity.identify import identify_contact
from priyom_identity.policy import MatchPolicy
from priyom_identity.settings import IdentitySettings
from priyom_identity.store import migrate_database
from priyom_identity.undeliverable import flag_undeliverable
from priyom_kit import Principal, Role, build_app
from priyom_kit.db import Database, Inbox
from priyom_testing.apps import started
from priyom_tickets import handlers, tables
from priyom_tickets.access import Staff, StaffRole
from priyom_tickets.app import build, create_app
from priyom_tickets.arrivals import register_contact
from priyom_tickets.policy import Policy
from priyom_tickets.settings import TicketsSettings

from .conftest import MakeRouted

pytestmark = pytest.mark.timeout(120)

ADMIN = "client-card-admin-token"
STAFF = {
    "agent": Staff("Иванова", frozenset({Role.AGENT}), StaffRole.AGENT, frozenset({"service"})),
    "engineer-quality": Staff("Орлов", frozenset({Role.AGENT}), StaffRole.ENGINEER, frozenset({"quality"})),
    "supervisor": Principal("Смирнов", frozenset({Role.SUPERVISOR})),
    "integration": Principal("intake-web", frozenset({Role.SERVICE})),
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def authenticate(token: str) -> Principal | None:
    return STAFF.get(token)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Identity:
    url: str
    database_url: str
    http: httpx.AsyncClient


#: The deployment's service credentials: tickets calls identity with its own entry, never the admin token.
SERVICE_TOKENS = json.dumps({"tickets": "tickets-credential-for-tests"})


@asynccontextmanager
async def serve_identity(database_url: str, bus_prefix: str, amqp_url: str,
                         admin_token: str = ADMIN) -> AsyncIterator[str]:
    """Identity's own app under uvicorn on a free port, on a freshly migrated database; its base URL. It takes
    tickets' own credential (SERVICE_TOKENS), as in a deployment."""
    await asyncio.to_thread(migrate_database, database_url)  # Alembic's env runs its own event loop
    settings = IdentitySettings(IDENTITY_DATABASE_URL=database_url, AMQP_URL=amqp_url,
                                PRIYOM_BUS_PREFIX=bus_prefix, PRIYOM_ADMIN_TOKEN=admin_token,
                                PRIYOM_SERVICE_TOKENS=SERVICE_TOKENS)
    server = uvicorn.Server(uvicorn.Config(build_app(build_identity(settings)), host="127.0.0.1", port=0,
                                           lifespan="on", log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def identity(database_url: str, cleanup_bus: str, amqp_url: str) -> AsyncIterator[Identity]:
    async with serve_identity(database_url, cleanup_bus, amqp_url) as url, httpx.AsyncClient(
            base_url=url, headers=bearer(ADMIN), timeout=10) as http:
        yield Identity(url, database_url, http)


@asynccontextmanager
async def tickets_app(tmp_path: Path, bus_prefix: str, amqp_url: str,
                      identity_url: str | None) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    """Tickets' app, started, on a migrated SQLite file, reading cards from ``identity_url``."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'tickets.db'}"
    if not (tmp_path / "tickets.db").exists():
        await asyncio.to_thread(tables.migrate_database, url)
    settings = TicketsSettings(TICKETS_DATABASE_URL=url, PRIYOM_BUS_PREFIX=bus_prefix, AMQP_URL=amqp_url,
                               PRIYOM_BLOB_DIR=str(tmp_path / "blobs"), PRIYOM_ADMIN_TOKEN=ADMIN,
                               identity_url=identity_url, PRIYOM_SERVICE_TOKENS=SERVICE_TOKENS,
                               identity_timeout_s=2)
    app = create_app(build(settings, authenticator=authenticate))
    database = Database(url)
    await database.open()
    try:
        async with started(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://tickets.test") as client:
            yield client, database
    finally:
        await database.close()


async def ticket_for(database: Database, make_routed: MakeRouted, client_id: uuid.UUID, team: str = "service",
                     ) -> str:
    created, _ = await register_contact(database.sessions, Inbox(tables.inbox, handlers.CONSUMER),
                                        make_routed(client_id=client_id, first_contact=False, team=team),
                                        Policy(zone=ZoneInfo("UTC"), outbound_channels=frozenset()))
    return created.number


CARD = {
    "kind": "org", "name": "ООО «Ромашка» <b>&amp;</b>", "sla_tier": "gold", "account_manager": "Кузнецова А.",
    "legal_id": "7701234567", "tags": ["vip", "опт"],
    "contracts": [{"number": "Д-2025/17", "service": "сопровождение", "valid_from": "2025-01-01"}],
    "phones": ["+7 495 100-20-30"],
    "persons": [
        {"full_name": "Анна Петрова", "position": "главный бухгалтер", "role": "representative",
         "phones": ["8 916 555-44-33"], "emails": ["anna.petrova@romashka.example"],
         "messengers": [{"channel": "telegram", "user_id": "4242"}]},
        {"full_name": "Игорь Сидоров", "emails": ["igor@romashka.example"]},
    ],
}


async def test_the_card_comes_from_identity_with_persons_contacts_contracts_and_flags(
        identity: Identity, tmp_path: Path, cleanup_bus: str, amqp_url: str, make_routed: MakeRouted) -> None:
    made = await identity.http.post("/api/v1/clients", json=CARD)
    assert made.status_code == 201, made.text
    client_id = uuid.UUID(made.json()["id"])
    database = Database(identity.database_url)
    await database.open()
    try:
        async with database.sessions() as session, session.begin():
            await flag_undeliverable(session, ["igor@romashka.example"], reason="550 mailbox unavailable",
                                     at=utcnow(), rules=DEFAULT_EMAIL_RULES)
            # Anna's address on the web form with a phone nobody proved: a claim on her card.
            await identify_contact(session, Contact(contact_id=uuid.uuid4(), received_at=utcnow(), sender=Sender(
                email="anna.petrova@romashka.example", phone="+7 916 555-44-00")), "web", MatchPolicy(region="RU"))
    finally:
        await database.close()

    async with tickets_app(tmp_path, cleanup_bus, amqp_url, identity.url) as (client, tickets_db):
        number = await ticket_for(tickets_db, make_routed, client_id)
        answer = await client.get(f"/api/v1/tickets/{number}/client", headers=bearer("agent"))
        assert answer.status_code == 200, answer.text
        panel = answer.json()
        assert panel["available"] is True and panel["reason"] is None, panel
        assert panel["client_id"] == str(client_id)
        card = panel["card"]
        assert card["name"] == CARD["name"]  # as entered: the console escapes, the API does not
        assert (card["kind"], card["sla_tier"], card["account_manager"], card["legal_id"]) == (
            "org", "gold", "Кузнецова А.", "7701234567")
        assert card["tags"] == ["vip", "опт"]
        assert card["contracts"] == [{"number": "Д-2025/17", "service": "сопровождение",
                                      "valid_from": "2025-01-01", "valid_to": None}]
        assert [(c["kind"], c["value"]) for c in card["contacts"]] == [("phone", "+74951002030")]
        anna, igor = sorted(card["persons"], key=lambda p: p["full_name"])
        assert (anna["full_name"], anna["position"], anna["role"]) == (
            "Анна Петрова", "главный бухгалтер", "representative")
        assert {(c["kind"], c["value"], c["verified"]) for c in anna["contacts"]} == {
            ("phone", "+79165554433", True), ("email", "anna.petrova@romashka.example", True),
            ("messenger:telegram", "4242", True), ("phone", "+79165554400", False)}
        assert not any(c["undeliverable"] for c in anna["contacts"])
        (igor_mail,) = igor["contacts"]
        assert igor_mail["undeliverable"] is True and igor_mail["undeliverable_reason"] == "550 mailbox unavailable"
        assert card["undeliverable"] is True
        # Only what an agent needs: no identity ids, audit times or matching internals.
        assert not {"id", "identifiers", "created_at", "updated_at", "missing_fields"} & card.keys()
        assert "id" not in anna

        supervisor = await client.get(f"/api/v1/tickets/{number}/client", headers=bearer("supervisor"))
        assert supervisor.status_code == 200 and supervisor.json()["card"]["name"] == CARD["name"]

        # A card identity does not have: said so, not an error.
        unknown = await ticket_for(tickets_db, make_routed, uuid.uuid4())
        missing = await client.get(f"/api/v1/tickets/{unknown}/client", headers=bearer("agent"))
        assert missing.status_code == 200
        assert missing.json() | {"client_id": None} == {"client_id": None, "available": False,
                                                        "reason": "not_found", "card": None}


async def test_who_may_not_see_the_ticket_does_not_see_the_card(
        identity: Identity, tmp_path: Path, cleanup_bus: str, amqp_url: str, make_routed: MakeRouted) -> None:
    made = await identity.http.post("/api/v1/clients", json=CARD)
    client_id = uuid.UUID(made.json()["id"])
    async with tickets_app(tmp_path, cleanup_bus, amqp_url, identity.url) as (client, tickets_db):
        number = await ticket_for(tickets_db, make_routed, client_id, team="service")
        # Another team's engineer: the same 404 as for the ticket itself, so numbers reveal nothing.
        other_team = await client.get(f"/api/v1/tickets/{number}/client", headers=bearer("engineer-quality"))
        assert other_team.status_code == 404
        assert (await client.get(f"/api/v1/tickets/{number}", headers=bearer("engineer-quality"))).status_code == 404
        # A service token (an intake adapter) is no member of staff.
        assert (await client.get(f"/api/v1/tickets/{number}/client",
                                 headers=bearer("integration"))).status_code == 403
        assert (await client.get(f"/api/v1/tickets/{number}/client")).status_code == 401
        assert (await client.get(f"/api/v1/tickets/{number}/client", headers=bearer("nobody"))).status_code == 401
        nonexistent = "2020-000999"
        assert (await client.get(f"/api/v1/tickets/{nonexistent}/client", headers=bearer("agent"))).status_code == 404


@pytest.mark.parametrize("identity_url", [None, "down"])
async def test_without_identity_the_panel_says_so_and_the_ticket_still_opens(
        identity_url: str | None, tmp_path: Path, cleanup_bus: str, amqp_url: str,
        make_routed: MakeRouted) -> None:
    # "down": an address nothing listens on (a port just freed), as when identity is stopped.
    url = f"http://127.0.0.1:{free_port()}" if identity_url == "down" else None
    async with tickets_app(tmp_path, cleanup_bus, amqp_url, url) as (client, tickets_db):
        client_id = uuid.uuid4()
        number = await ticket_for(tickets_db, make_routed, client_id)
        started = asyncio.get_running_loop().time()
        answer = await client.get(f"/api/v1/tickets/{number}/client", headers=bearer("agent"))
        assert asyncio.get_running_loop().time() - started < 5  # the timeout bounds the wait
        assert answer.status_code == 200
        assert answer.json() == {"client_id": str(client_id), "available": False,
                                 "reason": "not_configured" if url is None else "unreachable", "card": None}
        assert (await client.get(f"/api/v1/tickets/{number}", headers=bearer("agent"))).status_code == 200
