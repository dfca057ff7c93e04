"""Dead letters are work: one is visible to an admin through tickets' API, is replayed after the fix, and
ends as a ticket, through the real identity, router and tickets processes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from priyom_contracts import Contact, ContactAssigned, ContactReceived, Sender, Topology, utcnow
from priyom_kit import Bus, ServiceSettings
from priyom_testing.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture
async def intake_bus(stack: Stack, amqp_url: str) -> AsyncIterator[Bus]:
    """The bus as an intake service holds it: what the tests publish or dead-letter goes through the kit."""
    settings = ServiceSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=stack.env["PRIYOM_BUS_PREFIX"])
    bus = Bus(settings, "intake-web", CollectorRegistry())
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


def contact(marker: str, contact_id: uuid.UUID | None = None) -> ContactReceived:
    contact_id = contact_id or uuid.uuid4()
    return ContactReceived(
        correlation_id=contact_id, channel="web", idempotency_key=f"form-{contact_id}",
        contact=Contact(contact_id=contact_id, received_at=utcnow(), subject=f"Не приходят счета {marker}",
                        body="Второй месяц не приходят счета на почту",
                        sender=Sender(name="Игорь Лебедев", email=f"igor.{marker}@example.ru")),
    )


async def dead_letter(stack: Stack, match, timeout: float = 30, **filters: str) -> dict:  # noqa: ANN001
    """The first listed dead letter ``match`` accepts, waiting for tickets to keep it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := [letter for letter in stack.dead_letters(**filters) if match(letter)]):
        assert asyncio.get_running_loop().time() < deadline, "the dead letter was not listed"
        await asyncio.sleep(0.1)
    return found[0]


async def ticket_of(client: httpx.AsyncClient, stack: Stack, contact_id: uuid.UUID, timeout: float = 30) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(f"{stack.url('tickets')}/api/v1/contacts/{contact_id}/ticket", headers=stack.admin_headers)
        if response.status_code == 200:
            full = await client.get(f"{stack.url('tickets')}/api/v1/tickets/{response.json()['number']}",
                                    headers=stack.admin_headers)
            return full.json()
        assert response.status_code == 404, response.text
        assert asyncio.get_running_loop().time() < deadline, f"no ticket for contact {contact_id}"
        await asyncio.sleep(0.1)


async def test_a_contact_an_intake_dead_lettered_is_listed_replayed_and_becomes_a_ticket(
        stack: Stack, intake_bus: Bus) -> None:
    # A letter first: eight hex digits may all be digits, which the preview masks as a phone number (a clean run
    # waited 30 s for a marker the preview showed as ***5678).
    marker = f"m{uuid.uuid4().hex[:8]}"
    event = contact(marker)
    # As an intake does when it cannot publish what it received: kept whole, confirmed, with the reason.
    await intake_bus.dead_letter(event.model_dump_json().encode(), "publish not confirmed in 10 s", "web",
                                 routing_key=event.routing_key)
    async with httpx.AsyncClient(timeout=10) as client:
        letter = await dead_letter(stack, lambda d: marker in d["preview"], source="web")
        assert (letter["state"], letter["service"], letter["channel"]) == ("waiting", "intake-web", "web")
        assert letter["reason"] == "publish not confirmed in 10 s" and letter["replayable"] is True
        assert f"igor.{marker}" not in str(letter)  # the preview masks the address
        lookup = await client.get(f"{stack.url('tickets')}/api/v1/contacts/{event.contact.contact_id}/ticket", headers=stack.admin_headers)
        assert lookup.status_code == 404

        replay = await client.post(f"{stack.url('tickets')}/api/v1/dead-letters/{letter['id']}/replay",
                                   headers=stack.admin_headers, json={"note": "broker is back"})
        assert replay.status_code == 200, replay.text
        ticket = await ticket_of(client, stack, event.contact.contact_id)
        assert ticket["channel"] == "web" and marker in ticket["subject"]
        replayed = await dead_letter(stack, lambda d: d["id"] == letter["id"], state="replayed")
        assert (replayed["handled_by"], replayed["handled_note"]) == ("admin", "broker is back")


async def test_a_message_a_consumer_gave_up_on_is_redelivered_after_the_fix(
        stack: Stack, intake_bus: Bus) -> None:
    """An assignment that came before its ticket exhausts its retries at tickets; once the contact's ticket
    exists, the replay reaches tickets' queue again and the ticket gets the agent."""
    topology = Topology(stack.env["PRIYOM_BUS_PREFIX"])
    marker = uuid.uuid4().hex[:8]
    contact_id = uuid.uuid4()
    assignment = ContactAssigned(correlation_id=contact_id, channel="web", idempotency_key=f"{contact_id}:Петров",
                                 contact_id=contact_id, team="service", assignee=f"Петров {marker}",
                                 reason="agent freed up")
    await intake_bus.publish(assignment)
    async with httpx.AsyncClient(timeout=10) as client:
        letter = await dead_letter(stack, lambda d: d["message_id"] == str(assignment.message_id),
                                   source=topology.queue("tickets.assignments").name)
        assert (letter["service"], letter["error_kind"], letter["attempts"]) == ("tickets", "attempts-exhausted", 5)
        assert "has no ticket yet" in letter["reason"]

        await intake_bus.publish(contact(marker, contact_id))  # the fix: the contact's ticket now exists
        ticket = await ticket_of(client, stack, contact_id)
        assert ticket["assignee"] != assignment.assignee

        many = await client.post(f"{stack.url('tickets')}/api/v1/dead-letters/replay", headers=stack.admin_headers,
                                 json={"ids": [letter["id"]], "note": "ticket registered"})
        assert many.json()["results"] == [{"id": letter["id"], "outcome": "replayed", "detail": None}]
        deadline = asyncio.get_running_loop().time() + 30
        while (ticket := await ticket_of(client, stack, contact_id))["assignee"] != assignment.assignee:
            assert asyncio.get_running_loop().time() < deadline, ticket["assignee"]
            await asyncio.sleep(0.1)
        metrics = (await client.get(f"{stack.url('tickets')}/metrics")).text
        assert "priyom_dead_letters_waiting" in metrics
