"""The shell starts against the real RabbitMQ and reports itself ready."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from priyom_intake_telephony.app import build
from priyom_intake_telephony.settings import IntakeTelephonySettings
from priyom_kit import build_app
from priyom_testing.apps import started

from .conftest import migrated_sqlite


async def test_starts_on_the_bus_and_reports_health(cleanup_bus: str, amqp_url: str, tmp_path: Path) -> None:
    database_url = await asyncio.to_thread(migrated_sqlite, tmp_path)
    settings = IntakeTelephonySettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus, database_url=database_url)
    app = build_app(build(settings))
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://test") as client:
        health = await client.get("/health")
        metrics = await client.get("/metrics")

    assert health.status_code == 200, health.text
    assert health.json() == {"status": "ok", "service": "intake-telephony", "checks": {"broker": True, "database": True}}
    assert settings.port == 8004
    assert metrics.status_code == 200
