"""Fixtures: the fake AMI server (``priyom_testing.ami_server``) and the service started against it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from priyom_intake_telephony.app import build
from priyom_intake_telephony.settings import IntakeTelephonySettings
from priyom_intake_telephony.store import migrate_database
from priyom_kit import ServiceParts, build_app
from priyom_kit.testing import Tap, bus_tap
from priyom_testing.ami_server import FakeAmiServer
from priyom_testing.apps import started as started_app

ADMIN_TOKEN = "telephony-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CTI_SECRET = "cti-secret-3f9a-7c2e"


@dataclass
class Telephony:
    parts: ServiceParts
    app: FastAPI
    client: httpx.AsyncClient
    calls: Tap
    contacts: Tap

    async def call_events(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        return [json.loads((await self.calls.next(timeout)).body) for _ in range(count)]

    async def contact(self, timeout: float = 15) -> dict[str, Any]:
        return json.loads((await self.contacts.next(timeout)).body)


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmiServer]:
    async with FakeAmiServer(username="priyom", secret="s3cret") as server:
        yield server


def migrated_sqlite(directory: Path) -> str:
    """The service's database (calls in progress, the contacts' outbox) as a migrated SQLite file."""
    url = f"sqlite+aiosqlite:///{directory / 'intake-telephony.db'}"
    migrate_database(url)
    return url


def telephony_settings(amqp_url: str, prefix: str, ami: FakeAmiServer | None, database_url: str,
                       **extra: Any) -> IntakeTelephonySettings:
    values: dict[str, Any] = dict(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=prefix, PRIYOM_ADMIN_TOKEN=ADMIN_TOKEN,
                                  cti_secret=CTI_SECRET, cdr_wait_s=0.3, reconnect_min_s=0.2,
                                  lookup_timeout_ms=300, database_url=database_url)
    if ami is not None:
        values.update(AMI_HOST="127.0.0.1", AMI_PORT=ami.port, AMI_USERNAME=ami.username, AMI_SECRET=ami.secret)
    values.update(extra)
    return IntakeTelephonySettings(**values)


@pytest.fixture
async def telephony(ami: FakeAmiServer, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[Telephony]:
    """The service as ``python -m priyom_intake_telephony`` runs it, logged in to the fake AMI server, with
    taps on the call events and the contacts it publishes."""
    database_url = await asyncio.to_thread(migrated_sqlite, tmp_path)  # Alembic's env runs its own loop
    async for service in started(telephony_settings(amqp_url, cleanup_bus, ami, database_url), amqp_url,
                                 cleanup_bus):
        await ami.wait_for_login()
        yield service


async def started(settings: IntakeTelephonySettings, amqp_url: str, prefix: str) -> AsyncIterator[Telephony]:
    parts = build(settings)
    app = build_app(parts)
    async with started_app(app), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://telephony.test") as client, \
            bus_tap(amqp_url, prefix, "call.event.v1.*") as calls, \
            bus_tap(amqp_url, prefix, "contact.received.v1.*") as contacts:
        yield Telephony(parts, app, client, calls, contacts)
