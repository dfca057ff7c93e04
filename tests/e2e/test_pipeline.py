"""The whole pipeline from the outside: a web form submission becomes exactly one numbered ticket."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

import aio_pika
import httpx
import pytest
from pydantic import SecretStr

from priyom_contracts import Topology
from priyom_kit.public_links import link_key
from priyom_testing.stack import Stack

pytestmark = pytest.mark.e2e


def unique_email() -> str:
    return f"client.{uuid.uuid4().hex[:8]}@example.ru"


async def submit(client: httpx.AsyncClient, stack: Stack, **fields: Any) -> httpx.Response:
    return await client.post(f"{stack.url('intake-web')}/api/v1/contacts", json={"consent": True, **fields})


async def wait_ticket(client: httpx.AsyncClient, stack: Stack, contact_id: str, timeout: float = 30) -> dict:
    """Poll the public registration endpoint like the form page does (with the link's key), then read the full
    ticket."""
    deadline = asyncio.get_running_loop().time() + timeout
    key = link_key(SecretStr(stack.env["PRIYOM_PUBLIC_LINK_SECRET"]), uuid.UUID(contact_id))
    while True:
        response = await client.get(f"{stack.url('tickets')}/api/v1/contacts/{contact_id}/ticket?key={key}")
        if response.status_code == 200:
            number = response.json()["number"]
            full = await client.get(f"{stack.url('tickets')}/api/v1/tickets/{number}", headers=stack.admin_headers)
            assert full.status_code == 200, full.text
            return full.json()
        assert response.status_code == 404, response.text
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no ticket for contact {contact_id} after {timeout}s\n{stack.diagnosis()}")
        await asyncio.sleep(0.1)


def number_order(number: str) -> tuple[int, int]:
    """Ticket numbers (``2026-000123``) in registration order: by year, then by count."""
    year, count = number.split("-")
    return int(year), int(count)


async def count_tickets(client: httpx.AsyncClient, stack: Stack, **filters: Any) -> int:
    response = await client.get(f"{stack.url('tickets')}/api/v1/tickets", params=filters,
                                headers=stack.admin_headers)
    assert response.status_code == 200, response.text
    return response.json()["total"]


async def test_form_submission_becomes_one_ticket(stack: Stack) -> None:
    email = unique_email()
    async with httpx.AsyncClient(timeout=10) as client:
        response = await submit(client, stack, name="Анна Смирнова", email=email, phone="8 (916) 555-01-01",
                                subject="Не работает касса", message="Касса не работает после обновления")
        assert response.status_code == 202, response.text
        contact_id = response.json()["contact_id"]
        ticket = await wait_ticket(client, stack, contact_id)
        assert re.fullmatch(r"[0-9]{4}-[0-9]{6,9}", ticket["number"]), ticket["number"]
        assert ticket["status"] == "new"
        assert ticket["channel"] == "web"
        assert ticket["first_contact"] is True
        assert ticket["type"] == "service_request"
        assert ticket["client_id"]
        assert ticket["created_at"]
        # The link the form's page polls opens this ticket; the contact id without its key opens nothing.
        status_url = response.json()["status_url"]
        assert (await client.get(status_url)).json()["number"] == ticket["number"]
        assert (await client.get(status_url.split("?")[0])).status_code == 404
        await asyncio.sleep(0.5)  # give a duplicate, if any, the time to appear
        assert await count_tickets(client, stack, client_id=ticket["client_id"]) == 1


async def test_returning_client_is_recognised_across_spellings(stack: Stack) -> None:
    local = f"olga.{uuid.uuid4().hex[:8]}"
    digits = f"{uuid.uuid4().int % 10**7:07d}"
    async with httpx.AsyncClient(timeout=10) as client:
        first = await submit(client, stack, name="Ольга", email=f"{local}@example.ru",
                             phone=f"+7 916 {digits[:3]} {digits[3:5]} {digits[5:]}", message="Вопрос по счёту")
        first_ticket = await wait_ticket(client, stack, first.json()["contact_id"])
        second = await submit(client, stack, name="Ольга", email=f"{local.upper()}@EXAMPLE.RU",
                              phone=f"8 (916) {digits[:3]}-{digits[3:5]}-{digits[5:]}", message="Ещё вопрос")
        second_ticket = await wait_ticket(client, stack, second.json()["contact_id"])
        phone_only = await submit(client, stack, phone=f"8916{digits}", message="Перезвоните мне")
        phone_ticket = await wait_ticket(client, stack, phone_only.json()["contact_id"])
        lookup = await client.get(f"{stack.url('identity')}/api/v1/clients/lookup",
                                  params={"phone": f"+7916{digits}"}, headers=stack.admin_headers)
    assert first_ticket["first_contact"] is True
    assert second_ticket["first_contact"] is False
    assert phone_ticket["first_contact"] is False
    assert second_ticket["client_id"] == first_ticket["client_id"] == phone_ticket["client_id"]
    assert number_order(second_ticket["number"]) > number_order(first_ticket["number"])
    assert lookup.status_code == 200, lookup.text
    assert str(lookup.json()["id"]) == first_ticket["client_id"]


async def test_broken_submission_is_rejected_and_publishes_nothing(
    stack: Stack, tap: aio_pika.abc.AbstractQueue
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await submit(client, stack, name="Без контактов", email="not-an-email", message="")
        assert response.status_code == 422
        fields = {tuple(error["loc"])[-1] for error in response.json()["detail"]}
        assert {"email", "message"} <= fields, response.json()
        no_identifier = await submit(client, stack, name="Аноним", message="Позвоните мне")
        assert no_identifier.status_code == 422
        # A valid submission afterwards proves the tap works: it must be the only message seen.
        ok = await submit(client, stack, email=unique_email(), message="Проверка")
        assert ok.status_code == 202
        await wait_ticket(client, stack, ok.json()["contact_id"])
    received = []
    while (message := await tap.get(fail=False)) is not None:
        await message.ack()
        if message.routing_key.startswith("contact.received."):
            received.append(json.loads(message.body)["contact"]["contact_id"])
    assert received == [ok.json()["contact_id"]]


async def test_same_idempotency_key_gives_one_ticket(stack: Stack) -> None:
    key = str(uuid.uuid4())
    email = unique_email()
    async with httpx.AsyncClient(timeout=10) as client:
        responses = [
            await client.post(f"{stack.url('intake-web')}/api/v1/contacts", headers={"Idempotency-Key": key},
                              json={"email": email, "message": "Двойной клик", "consent": True})
            for _ in range(3)
        ]
        assert all(r.status_code == 202 for r in responses)
        ticket = await wait_ticket(client, stack, responses[0].json()["contact_id"])
        await asyncio.sleep(1)
        assert await count_tickets(client, stack, client_id=ticket["client_id"]) == 1


async def test_multipart_attachment_reaches_the_ticket(stack: Stack) -> None:
    pdf = b"%PDF-1.4\n% scan of the contract\n" + bytes(range(256)) * 40
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{stack.url('intake-web')}/api/v1/contacts",
            data={"email": unique_email(), "subject": "Договор", "message": "Прикладываю скан договора",
                  "consent": "on"},
            files=[("attachments", ("договор.pdf", pdf, "application/pdf"))],
        )
        assert response.status_code == 202, response.text
        ticket = await wait_ticket(client, stack, response.json()["contact_id"])
    attachments = [a for m in ticket["messages"] for a in m["attachments"]]
    assert [(a["filename"], a["size"], a["content_type"]) for a in attachments] == [
        ("договор.pdf", len(pdf), "application/pdf")
    ]


async def test_unprocessable_message_lands_in_dead_letter_queue_with_reason(
    stack: Stack, amqp_url: str, topology: Topology
) -> None:
    """A contact.identified that router cannot read is dead-lettered, with the reason, not lost or looped;
    tickets, the keeper of the dead-letter queue, lists it for an admin."""
    marker = str(uuid.uuid4())
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(topology.exchange)
        await exchange.publish(
            aio_pika.Message(json.dumps({"channel": "web", "idempotency_key": marker}).encode(),
                             content_type="application/json", message_id=marker,
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key="contact.identified.v1.web", mandatory=True,
        )
    found = None
    deadline = asyncio.get_running_loop().time() + 20
    while found is None and asyncio.get_running_loop().time() < deadline:
        found = next((d for d in stack.dead_letters() if d["message_id"] == marker), None)
        await asyncio.sleep(0 if found else 0.1)
    assert found is not None, "the bad message did not reach the dead letters"
    assert found["source"] == topology.queue("router.contacts").name
    assert "ValidationError" in found["reason"]
    assert found["error_kind"] == "permanent"
