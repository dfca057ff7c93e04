"""The service starts against the real RabbitMQ and its database, and reports itself ready."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from priyom_intake_email.settings import IntakeEmailSettings


async def test_starts_on_the_bus_and_reports_health(running: FastAPI, settings: IntakeEmailSettings) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=running), base_url="http://test") as client:
        health = await client.get("/health")
        metrics = await client.get("/metrics")
    assert health.status_code == 200, health.text
    assert health.json() == {"status": "ok", "service": "intake-email",
                             "checks": {"broker": True, "database": True}}
    assert IntakeEmailSettings().port == 8005 and IntakeEmailSettings().smtp_port == 2525
    assert IntakeEmailSettings().smtp_domains == ["priyom.local"]
    assert settings.smtp_domains == ["priyom.local", "example.org"]  # SMTP_DOMAINS, comma-separated
    assert metrics.status_code == 200
