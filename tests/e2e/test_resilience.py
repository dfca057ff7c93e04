"""Nothing is lost when services are killed mid-stream: every accepted contact ends in exactly one ticket."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid

import httpx
import pytest

from priyom_testing.stack import Stack

from .test_pipeline import count_tickets, wait_ticket

pytestmark = pytest.mark.e2e


async def test_killing_identity_and_tickets_mid_stream_loses_nothing(stack: Stack) -> None:
    batch = uuid.uuid4().hex[:8]
    emails = [f"load.{batch}.{i}@example.ru" for i in range(40)]
    async with httpx.AsyncClient(timeout=10) as client:

        async def send(email: str) -> str:
            response = await client.post(f"{stack.url('intake-web')}/api/v1/contacts",
                                         json={"email": email, "message": f"Контакт {email}", "consent": True})
            assert response.status_code == 202, response.text
            return response.json()["contact_id"]

        first = await asyncio.gather(*(send(e) for e in emails[:20]))
        stack.kill("tickets")
        stack.kill("identity")
        second = await asyncio.gather(*(send(e) for e in emails[20:]))
        stack.start(["identity", "tickets"])
        tickets = [await wait_ticket(client, stack, contact_id, timeout=60) for contact_id in first + second]
        await asyncio.sleep(1)
        for ticket in tickets:
            assert await count_tickets(client, stack, client_id=ticket["client_id"]) == 1
    assert len({t["number"] for t in tickets}) == 40
    assert all(t["first_contact"] for t in tickets)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


@pytest.mark.exclusive  # every other test's connections would drop with the broker
@pytest.mark.skipif(shutil.which("rabbitmqctl") is None or os.geteuid() != 0,
                    reason="restarting the broker needs the local rabbitmq-server and root")
async def test_broker_restart_mid_stream_loses_nothing(stack: Stack) -> None:
    """Contacts accepted before a broker restart survive it; during the outage intake-web refuses (503)
    rather than accepting what it cannot deliver; after it, every service reconnects by itself."""
    batch = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as client:

        async def send(i: int, *, retry: bool = False) -> str:
            # A well-behaved client retries a refused contact with the same Idempotency-Key.
            key = f"{batch}-{i}"
            for _ in range(60 if retry else 1):
                response = await client.post(
                    f"{stack.url('intake-web')}/api/v1/contacts", headers={"Idempotency-Key": key},
                    json={"email": f"restart.{batch}.{i}@example.ru", "message": "Проверка после сбоя",
                          "consent": True})
                if response.status_code == 202:
                    return response.json()["contact_id"]
                assert response.status_code == 503, response.text
                await asyncio.sleep(1)
            raise AssertionError(f"contact {i} never accepted")

        before = [await send(i) for i in range(10)]
        await asyncio.to_thread(_rabbitmqctl, "stop_app")
        try:
            refused = await client.post(f"{stack.url('intake-web')}/api/v1/contacts",
                                        json={"email": f"down.{batch}@example.ru", "message": "Брокер лежит",
                                              "consent": True})
            assert refused.status_code == 503, refused.text
        finally:
            await asyncio.to_thread(_rabbitmqctl, "start_app")
            await asyncio.to_thread(_rabbitmqctl, "await_startup")
        after = [await send(i, retry=True) for i in range(10, 20)]
        tickets = [await wait_ticket(client, stack, contact_id, timeout=90) for contact_id in before + after]
        await asyncio.sleep(1)
        for ticket in tickets:
            assert await count_tickets(client, stack, client_id=ticket["client_id"]) == 1
    assert len({t["number"] for t in tickets}) == 20
