"""The shell starts against the real RabbitMQ and reports itself ready."""

from __future__ import annotations

import httpx

from priyom_intake_messenger.app import build
from priyom_intake_messenger.settings import IntakeMessengerSettings
from priyom_kit import build_app
from priyom_testing.apps import started


async def test_starts_on_the_bus_and_reports_health(cleanup_bus: str, amqp_url: str) -> None:
    settings = IntakeMessengerSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus)
    app = build_app(build(settings))
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://test") as client:
        health = await client.get("/health")
        metrics = await client.get("/metrics")

    assert health.status_code == 200, health.text
    # The database is open even with no channel configured: erasure requests redact its journal.
    assert health.json() == {"status": "ok", "service": "intake-messenger",
                             "checks": {"broker": True, "database": True}}
    assert settings.port == 8003
    assert metrics.status_code == 200
