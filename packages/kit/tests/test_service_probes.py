"""The two probes every service answers: readiness (/health) follows the broker, liveness (/livez) does not.

Kubernetes restarts a pod whose liveness probe fails; if liveness followed the broker, one RabbitMQ outage
would restart every pod of every service at once. So the app is built here with a bus that never reaches a
broker (the lifespan is not run: nothing connects), and the two probes must disagree.
"""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry

from priyom_kit import Bus, ServiceParts, ServiceSettings, build_app


def unreachable_app() -> httpx.AsyncClient:
    # Port 1 on loopback: nothing listens, so the broker check fails at once.
    settings = ServiceSettings(AMQP_URL="amqp://guest:guest@127.0.0.1:1/")
    parts = ServiceParts(name="probe-test", title="probe test", settings=settings,
                         bus=Bus(settings, "probe-test", CollectorRegistry()), registry=CollectorRegistry())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(parts)), base_url="http://test")


async def test_liveness_answers_while_the_broker_is_unreachable() -> None:
    async with unreachable_app() as client:
        live = await client.get("/livez")
        ready = await client.get("/health")
    assert live.status_code == 200
    assert live.json() == {"status": "alive", "service": "probe-test"}
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"broker": False}


async def test_liveness_is_listed_with_the_operations_routes() -> None:
    async with unreachable_app() as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/health", "/livez"} <= paths.keys()
