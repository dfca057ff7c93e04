"""Shared pieces of identity's tests: contacts as adapters publish them, and a migrated database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from alembic.config import Config
from fastapi import FastAPI

from priyom_contracts import Contact, ContactReceived, MessengerId, Sender, utcnow
from priyom_identity.app import build
from priyom_identity.settings import IdentitySettings
from priyom_identity.store import MIGRATIONS_DIR, VERSION_TABLE, migrate_database
from priyom_kit import ServiceParts, build_app
from priyom_kit.db import Database
from priyom_testing.apps import started


def contact_event(*, email: str | None = None, phone: str | None = None, telegram: str | None = None,
                  name: str | None = None, organisation: str | None = None, channel: str = "web",
                  key: str | None = None, received_at: datetime | None = None) -> ContactReceived:
    """A ContactReceived as an intake adapter would publish it."""
    contact_id = uuid.uuid4()
    messenger = MessengerId(channel="telegram", user_id=telegram) if telegram else None
    return ContactReceived(
        correlation_id=contact_id, channel=channel, idempotency_key=key or f"test:{uuid.uuid4()}",
        contact=Contact(
            contact_id=contact_id, received_at=received_at or utcnow(),
            sender=Sender(name=name, email=email, phone=phone, messenger=messenger,
                          organisation=organisation),
            body="Здравствуйте, у меня вопрос",
        ),
    )


def migrations_at(database_url: str) -> Config:
    """Alembic's config for identity's migrations on ``database_url``, to upgrade step by step in a test."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["version_table"] = VERSION_TABLE
    return config


def unique_email() -> str:
    return f"client.{uuid.uuid4().hex[:10]}@example.ru"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A started :class:`Database` on a freshly migrated SQLite or PostgreSQL database."""
    await asyncio.to_thread(migrate_database, database_url)  # Alembic's env runs its own event loop
    db = Database(database_url)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def settings(database_url: str, cleanup_bus: str, amqp_url: str) -> IdentitySettings:
    """Identity on its own bus names and a freshly migrated database."""
    await asyncio.to_thread(migrate_database, database_url)
    return IdentitySettings(IDENTITY_DATABASE_URL=database_url, AMQP_URL=amqp_url,
                            PRIYOM_BUS_PREFIX=cleanup_bus, PRIYOM_ADMIN_TOKEN=ADMIN_TOKEN,
                            PRIYOM_RETRY_DELAY_MS=50, PRIYOM_MAX_ATTEMPTS=2)


@pytest.fixture
def parts(settings: IdentitySettings) -> ServiceParts:
    return build(settings)


@pytest.fixture
async def app(parts: ServiceParts) -> AsyncIterator[FastAPI]:
    """The service exactly as ``python -m priyom_identity`` runs it, started (database and bus)."""
    app = build_app(parts)
    # Generous timeouts: the broker and PostgreSQL are shared with other suites running at the same time.
    async with started(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://identity.test") as c:
        yield c
