"""The console's client panel across real processes: tickets reads the card identity made from a form."""

from __future__ import annotations

import uuid

import httpx
import pytest

from priyom_testing.stack import Stack

from .test_pipeline import submit, wait_ticket

pytestmark = pytest.mark.e2e


async def test_a_form_contact_s_ticket_shows_identity_s_card(stack: Stack) -> None:
    email = f"client.{uuid.uuid4().hex[:8]}@example.ru"
    async with httpx.AsyncClient(timeout=10) as client:
        response = await submit(client, stack, name="Анна Смирнова", email=email, phone="8 (916) 555-01-02",
                                message="Касса не работает после обновления")
        assert response.status_code == 202, response.text
        ticket = await wait_ticket(client, stack, response.json()["contact_id"])
        panel = await client.get(f"{stack.url('tickets')}/api/v1/tickets/{ticket['number']}/client",
                                 headers=stack.admin_headers)
    assert panel.status_code == 200, panel.text
    body = panel.json()
    assert body["available"] is True, body["reason"]
    assert body["client_id"] == ticket["client_id"]
    card = body["card"]
    assert card["provisional"] is True  # made from this first contact
    values = {c["value"] for c in card["contacts"]} | {c["value"] for p in card["persons"] for c in p["contacts"]}
    assert {email, "+79165550102"} <= values
