"""The portal as ``python -m priyom_portal`` runs it, on a migrated SQLite or PostgreSQL database and its own
bus names, with staff tokens checked the way every service checks them: at tickets' ``GET /api/v1/me``
(here a FastAPI app answering exactly as tickets does, reached over ASGI)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Header, HTTPException
from pydantic import SecretStr

from priyom_contracts import Me, StaffRole
from priyom_kit import HttpClient, ServiceParts
from priyom_kit.staff_auth import StaffVerifier
from priyom_portal.app import build, create_app
from priyom_portal.settings import PortalSettings
from priyom_portal.store import migrate_database
from priyom_testing.apps import started

ADMIN_TOKEN = "portal-test-admin-token"
AGENT_TOKEN = "anna-agent-token-0123456789"
SERVICE_TOKEN = "router-service-credential"
FORM_ORIGIN = "https://form.example"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
AGENT = {"Authorization": f"Bearer {AGENT_TOKEN}"}
SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


def staff_directory() -> FastAPI:
    """Tickets' ``GET /api/v1/me``: one agent, Анна; every other token is a 401."""
    app = FastAPI()

    @app.get("/api/v1/me")
    async def me(authorization: str = Header("")) -> Me:
        if authorization != f"Bearer {AGENT_TOKEN}":
            raise HTTPException(401, "invalid token")
        return Me(name="Анна", role=StaffRole.AGENT, teams=["service"], sees_all=False)

    return app


@pytest.fixture
async def settings(database_url: str, cleanup_bus: str, amqp_url: str) -> PortalSettings:
    await asyncio.to_thread(migrate_database, database_url)
    return PortalSettings(
        PORTAL_DATABASE_URL=database_url,
        AMQP_URL=amqp_url,
        PRIYOM_BUS_PREFIX=cleanup_bus,
        PRIYOM_ADMIN_TOKEN=ADMIN_TOKEN,
        PRIYOM_SERVICE_TOKENS=json.dumps({"router": SERVICE_TOKEN}),
        cors_origins=[FORM_ORIGIN],
        public_url="https://help.example",
    )


def portal_parts(settings: PortalSettings) -> ServiceParts:
    """The portal's parts, checking staff tokens at :func:`staff_directory`."""
    parts = build(settings)
    tickets = HttpClient(base_url="http://tickets.test", transport=httpx.ASGITransport(app=staff_directory()))
    parts.authenticator = StaffVerifier(
        admin_token=SecretStr(ADMIN_TOKEN), service_tokens={"router": SecretStr(SERVICE_TOKEN)}, staff=tickets
    )
    return parts


@pytest.fixture
def parts(settings: PortalSettings) -> ServiceParts:
    return portal_parts(settings)


@pytest.fixture
async def app(parts: ServiceParts) -> AsyncIterator[FastAPI]:
    app = create_app(parts)
    async with started(app):
        yield app


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client; pass ``headers=ADMIN`` or ``AGENT`` per request for staff."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://portal.test"
    ) as client:
        yield client


async def write(
    http: httpx.AsyncClient,
    title: str,
    body: str,
    *,
    visibility: str = "public",
    status: str = "published",
    language: str = "ru",
    headers: dict[str, str] = ADMIN,
) -> int:
    """Write one article through the pinned API; its id."""
    response = await http.post(
        "/api/v1/kb/articles",
        headers=headers,
        json={
            "title": title,
            "body": body,
            "visibility": visibility,
            "status": status,
            "language": language,
            "category": "printing",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]
