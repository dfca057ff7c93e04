"""Nothing is lost when services are killed mid-stream: every accepted contact ends in exactly one ticket."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from .stack import Stack
from .test_pipeline import count_tickets, wait_ticket

pytestmark = pytest.mark.e2e


async def test_killing_identity_and_tickets_mid_stream_loses_nothing(stack: Stack) -> None:
    batch = uuid.uuid4().hex[:8]
    emails = [f"load.{batch}.{i}@example.ru" for i in range(40)]
    async with httpx.AsyncClient(timeout=10) as client:

        async def send(email: str) -> str:
            response = await client.post(f"{stack.url('intake-web')}/api/v1/contacts",
                                         json={"email": email, "message": f"Контакт {email}"})
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
