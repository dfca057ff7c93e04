"""Click-to-call with a staff member's token, checked by the real tickets service (its ``/api/v1/me``): an
agent calls out from their own extension only, a supervisor from any; an unknown token is refused.

Tickets runs in this process on a migrated SQLite database; skipped where it is not installed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from priyom_kit import HttpClient
from priyom_kit.staff_auth import StaffVerifier
from priyom_testing.apps import started

from .conftest import ADMIN, ADMIN_TOKEN, FakeAmiServer, Telephony

tickets_app = pytest.importorskip("priyom_tickets.app", reason="the tickets service is not installed")
tickets_settings = pytest.importorskip("priyom_tickets.settings")
tickets_tables = pytest.importorskip("priyom_tickets.tables")


@dataclass
class Tickets:
    """The tickets app: ``client`` for the test's own calls, ``for_telephony`` as telephony's client for it."""

    client: httpx.AsyncClient
    for_telephony: HttpClient


@pytest.fixture
async def tickets(tmp_path: Path, cleanup_bus: str, amqp_url: str) -> AsyncIterator[Tickets]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tickets.db'}"
    await asyncio.to_thread(tickets_tables.migrate_database, url)
    settings = tickets_settings.TicketsSettings(TICKETS_DATABASE_URL=url, AMQP_URL=amqp_url,
                                                PRIYOM_BUS_PREFIX=cleanup_bus, PRIYOM_ADMIN_TOKEN=ADMIN_TOKEN,
                                                PRIYOM_BLOB_DIR=str(tmp_path / "blobs"))
    app = tickets_app.create_app(tickets_app.build(settings))
    transport = httpx.ASGITransport(app=app)
    for_telephony = HttpClient(base_url="http://tickets.test", transport=transport)
    async with started(app), \
            httpx.AsyncClient(transport=transport, base_url="http://tickets.test") as client:
        await for_telephony.open()
        try:
            yield Tickets(client, for_telephony)
        finally:
            await for_telephony.close()


async def staff_token(tickets: Tickets, name: str, role: str, extension: str | None) -> str:
    response = await tickets.client.post("/api/v1/staff", headers=ADMIN, json={
        "name": name, "role": role, "teams": ["service"], **({"extension": extension} if extension else {})})
    assert response.status_code == 201, response.text
    return response.json()["token"]


async def test_agents_call_from_their_own_extension(tickets: Tickets, telephony: Telephony,
                                                    ami: FakeAmiServer) -> None:
    # The service's authenticator, pointed at the real tickets app (in this process, over ASGI).
    telephony.app.state.authenticator = StaffVerifier(admin_token=SecretStr(ADMIN_TOKEN), service_tokens={},
                                                      staff=tickets.for_telephony)
    agent = await staff_token(tickets, "Анна Агентова", "agent", "201")
    supervisor = await staff_token(tickets, "Олег Старший", "supervisor", None)

    async def call(token: str, extension: str) -> int:
        response = await telephony.client.post("/api/v1/calls", headers={"Authorization": f"Bearer {token}"},
                                               json={"extension": extension, "number": "+74951234567"})
        return response.status_code

    assert await call(agent, "201") == 202
    assert await call(agent, "202") == 403  # somebody else's phone
    assert await call(supervisor, "202") == 202
    assert await call("not-a-token", "201") == 401
    channels = [a["Channel"] for a in ami.actions if a.get("Action") == "Originate"]
    assert channels == ["PJSIP/201", "PJSIP/202"]
