"""Staff tokens expire, are revoked and rotated; services' credentials read only what services need.

Through the service's own authenticator (accounts in its table, the admin token, PRIYOM_SERVICE_TOKENS).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from priyom_contracts import utcnow
from priyom_kit.db import Database
from priyom_testing.apps import started
from priyom_tickets import tables
from priyom_tickets.app import build, create_app
from priyom_tickets.settings import TicketsSettings

ADMIN = "tokens-test-admin-token"
IDENTITY = "identity-service-credential"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def client(migrated_url: str, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = TicketsSettings(TICKETS_DATABASE_URL=migrated_url, PRIYOM_BUS_PREFIX=cleanup_bus, AMQP_URL=amqp_url,
                               PRIYOM_BLOB_DIR=str(tmp_path / "blobs"), PRIYOM_ADMIN_TOKEN=ADMIN,
                               PRIYOM_SERVICE_TOKENS=json.dumps({"identity": IDENTITY}), staff_token_days=30)
    app = create_app(build(settings))
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://tickets.test") as http:
        yield http


async def account(client: httpx.AsyncClient, name: str, role: str = "agent") -> str:
    made = await client.post("/api/v1/staff", headers=bearer(ADMIN), json={"name": name, "role": role,
                                                                            "teams": ["service"]})
    assert made.status_code == 201, made.text
    lives = datetime.fromisoformat(made.json()["token_expires_at"]) - utcnow()
    assert timedelta(days=29) < lives <= timedelta(days=30)  # TICKETS_STAFF_TOKEN_DAYS
    return made.json()["token"]


async def works(client: httpx.AsyncClient, token: str) -> bool:
    answer = await client.get("/api/v1/me", headers=bearer(token))
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


async def test_revoked_token_stops_at_once_and_rotation_gives_a_new_one(client: httpx.AsyncClient) -> None:
    token = await account(client, "Анна")
    assert await works(client, token)
    assert (await client.delete("/api/v1/staff/Анна/token", headers=bearer(ADMIN))).status_code == 204
    assert not await works(client, token)
    listed = {s["name"]: s for s in (await client.get("/api/v1/staff", headers=bearer(ADMIN))).json()}
    assert listed["Анна"]["token_revoked_at"] is not None

    rotated = await client.post("/api/v1/staff/Анна/token", headers=bearer(ADMIN))
    assert rotated.status_code == 200, rotated.text
    fresh = rotated.json()["token"]
    assert fresh != token and await works(client, fresh) and not await works(client, token)
    assert (await client.post("/api/v1/staff/Никто/token", headers=bearer(ADMIN))).status_code == 404
    assert (await client.delete("/api/v1/staff/Анна/token", headers=bearer(fresh))).status_code == 403


async def test_a_member_rotates_their_own_token(client: httpx.AsyncClient) -> None:
    token = await account(client, "Олег")
    mine = await client.post("/api/v1/me/token", headers=bearer(token))
    assert mine.status_code == 200, mine.text
    assert not await works(client, token) and await works(client, mine.json()["token"])
    # The environment's tokens are rotated in the environment, not here.
    assert (await client.post("/api/v1/me/token", headers=bearer(ADMIN))).status_code == 403


async def test_an_expired_token_is_refused(client: httpx.AsyncClient, migrated_url: str) -> None:
    token = await account(client, "Ирина")
    database = Database(migrated_url)
    await database.open()
    try:
        async with database.sessions() as session:
            await session.execute(update(tables.staff).where(tables.staff.c.name == "Ирина")
                                  .values(token_expires_at=utcnow() - timedelta(seconds=1)))
            await session.commit()
    finally:
        await database.close()
    assert not await works(client, token)


async def test_a_service_credential_reads_the_subject_export_and_nothing_else(client: httpx.AsyncClient) -> None:
    """Identity gathers a person's tickets with its own credential; it is no admin and no agent."""
    export = await client.post("/api/v1/internal/subject-export", headers=bearer(IDENTITY),
                               json={"client_id": "00000000-0000-4000-8000-000000000001"})
    assert export.status_code == 200, export.text
    assert (await client.get("/api/v1/staff", headers=bearer(IDENTITY))).status_code == 403
    assert (await client.get("/api/v1/tickets", headers=bearer(IDENTITY))).status_code == 403
    assert (await client.post("/api/v1/staff", headers=bearer(IDENTITY),
                              json={"name": "x", "role": "admin", "teams": []})).status_code == 403


async def test_a_service_reads_who_is_on_which_extension_and_an_agent_does_not(client: httpx.AsyncClient) -> None:
    """intake-telephony turns the agent names a Zammad-style CTI post carries into extensions from here."""
    for name, extension in (("Christopher Miller", "101"), ("Emma Taylor", None), ("Анна", "205")):
        made = await client.post("/api/v1/staff", headers=bearer(ADMIN),
                                 json={"name": name, "role": "agent", "teams": ["service"], "extension": extension})
        assert made.status_code == 201, made.text
    listed = await client.get("/api/v1/staff/extensions", headers=bearer(IDENTITY))
    assert listed.status_code == 200, listed.text
    assert listed.json() == [{"name": "Christopher Miller", "extension": "101"}, {"name": "Анна", "extension": "205"}]
    agent = (await client.post("/api/v1/staff/Анна/token", headers=bearer(ADMIN))).json()["token"]
    assert (await client.get("/api/v1/staff/extensions", headers=bearer(agent))).status_code == 403
