"""``route/explain`` given only a ``client_id`` reads the card from identity, run as a real process
(through its command line, as an operator runs it: the router never imports another service)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from priyom_kit import build_app
from priyom_router.app import build
from priyom_router.settings import RouterSettings
from priyom_router.store import migrate_database
from priyom_testing.apps import started

from .conftest import ADMIN, ADMIN_TOKEN

#: The router reads identity's cards with its own credential, as in a deployment (never the admin token).
SERVICE_TOKENS = json.dumps({"router": "router-credential-for-tests"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def identity(tmp_path: Path, cleanup_bus: str, amqp_url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "IDENTITY_PORT": str(port), "AMQP_URL": amqp_url, "PRIYOM_BUS_PREFIX": cleanup_bus,
           "PRIYOM_ADMIN_TOKEN": ADMIN_TOKEN, "IDENTITY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/id.db",
           "PRIYOM_SERVICE_TOKENS": SERVICE_TOKENS}
    subprocess.run([sys.executable, "-m", "priyom_identity", "migrate"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)
    log = open(tmp_path / "identity.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "priyom_identity", "serve"], env=env, cwd=tmp_path,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "identity.log").read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise TimeoutError("identity did not become healthy")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


@pytest.fixture
async def router_http(identity: str, cleanup_bus: str, amqp_url: str,
                      tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite+aiosqlite:///{tmp_path}/router.db"
    await asyncio.to_thread(migrate_database, url)
    settings = RouterSettings(ROUTER_DATABASE_URL=url, AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus,
                              PRIYOM_ADMIN_TOKEN=ADMIN_TOKEN, identity_url=identity,
                              PRIYOM_SERVICE_TOKENS=SERVICE_TOKENS)
    app = build_app(build(settings))
    async with started(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router.test",
                                     headers=ADMIN) as client:
            yield client


async def test_explain_reads_the_card_of_client_id(identity: str, router_http: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(base_url=identity, headers=ADMIN, timeout=30) as to_identity:
        card = await to_identity.post("/api/v1/clients", json={
            "name": "ООО «Северный ветер»", "sla_tier": "premium", "account_manager": "Ирина Соколова",
            "contracts": [{"number": "СО-17", "valid_to": "2099-12-31"}]})
    assert card.status_code == 201, card.text
    body = {"channel": "email", "subject": "Авария", "body": "Терминал не запускается",
            "received_at": "2026-11-25T09:00:00+00:00", "client_id": card.json()["id"]}
    decision = (await router_http.post("/api/v1/route/explain", json=body)).json()
    # Premium tier, a service request (3), urgent by «авария» (-1), premium (-1): priority 1.
    assert (decision["rule"], decision["category"], decision["assignee"], decision["priority"]) == (
        "fault", "service", "Ирина Соколова", 1)
    assert "service under contract СО-17" in decision["trail"]

    missing = await router_http.post("/api/v1/route/explain",
                                     json={**body, "client_id": "00000000-0000-4000-8000-000000000000"})
    assert missing.status_code == 404
