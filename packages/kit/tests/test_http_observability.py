"""What every service's HTTP side reports: request metrics by route template, and the correlation id."""

from __future__ import annotations

import httpx
import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_kit import ServiceSettings
from priyom_kit.http_observability import observe_http


def make_app() -> tuple[FastAPI, CollectorRegistry, list[str | None]]:
    registry = CollectorRegistry()
    app = FastAPI()
    seen: list[str | None] = []

    @app.get("/api/v1/tickets/{number}")
    async def ticket(number: str) -> dict[str, str]:
        seen.append(structlog.contextvars.get_contextvars().get("correlation_id"))
        return {"number": number}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("failed")

    observe_http(app, "kit-test", ServiceSettings(), registry)
    return app, registry, seen


def count(registry: CollectorRegistry, **labels: str) -> float:
    return registry.get_sample_value("priyom_http_requests_total", labels) or 0.0


async def test_requests_are_counted_by_route_template_not_path() -> None:
    app, registry, _ = make_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for number in ("2026-000001", "2026-000002"):
            assert (await client.get(f"/api/v1/tickets/{number}")).status_code == 200
        assert (await client.get("/wp-admin/setup.php")).status_code == 404
        assert (await client.get("/boom")).status_code == 500
    assert count(registry, method="GET", route="/api/v1/tickets/{number}", status="200") == 2
    assert count(registry, method="GET", route="<unmatched>", status="404") == 1
    assert count(registry, method="GET", route="/boom", status="500") == 1
    assert registry.get_sample_value("priyom_http_request_duration_seconds_count",
                                     {"method": "GET", "route": "/api/v1/tickets/{number}"}) == 2
    text = str([m.samples for m in registry.collect()])
    assert "2026-000001" not in text  # no raw path in any label


async def test_the_callers_request_id_is_logged_and_echoed_else_one_is_made() -> None:
    app, _, seen = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        given = await client.get("/api/v1/tickets/1", headers={"X-Request-ID": "lb-7f3a"})
        correlated = await client.get("/api/v1/tickets/1", headers={"X-Correlation-ID": "flow-1"})
        made = await client.get("/api/v1/tickets/1")
    assert given.headers["X-Request-ID"] == "lb-7f3a"
    assert correlated.headers["X-Correlation-ID"] == "flow-1"
    assert len(made.headers["X-Request-ID"]) == 32
    assert seen == ["lb-7f3a", "flow-1", made.headers["X-Request-ID"]]
