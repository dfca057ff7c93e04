"""Undeliverable email addresses through the real RabbitMQ and both databases: a failed delivery report or a
bounce flags the address on the card (shown by the API), the address still identifies its sender, and a
later delivery clears the flag."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from fastapi import FastAPI

from priyom_contracts import (
    AutomatedKind,
    ClientChange,
    ClientChanged,
    Contact,
    ContactReceived,
    DeliveryReported,
    DeliveryStatus,
    Sender,
    utcnow,
)
from priyom_identity.cards import NewClient
from priyom_identity.identify import register_card
from priyom_identity.policy import MatchPolicy
from priyom_identity.undeliverable import clear_undeliverable, flag_undeliverable
from priyom_kit import ServiceParts
from priyom_kit.db import Database
from priyom_kit.testing import bus_tap

from .conftest import ADMIN, unique_email

POLICY = MatchPolicy(region="RU")


def report(email: str, status: DeliveryStatus, *, detail: str | None = None, at=None) -> DeliveryReported:  # type: ignore[no-untyped-def]
    reply_id = uuid.uuid4()
    return DeliveryReported(
        correlation_id=uuid.uuid4(), channel="email", idempotency_key=f"{reply_id}:{status.value}",
        occurred_at=at or utcnow(), ticket_number="2026-000123", reply_id=reply_id, status=status,
        detail=detail, recipient_email=email)


async def email_identifier(client: httpx.AsyncClient, client_id: str) -> dict:
    card = (await client.get(f"/api/v1/clients/{client_id}", headers=ADMIN)).json()
    (identifier,) = [i for i in card["identifiers"] if i["kind"] == "email"]
    return identifier


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


async def test_failed_delivery_flags_the_address_and_a_later_delivery_clears_it(
        app: FastAPI, client: httpx.AsyncClient, parts: ServiceParts, amqp_url: str) -> None:
    email = unique_email()
    card = (await client.post("/api/v1/clients", headers=ADMIN,
                              json={"name": "ООО Почта", "emails": [email], "phones": ["+7 916 770-00-01"]})).json()
    async with bus_tap(amqp_url, parts.settings.bus_prefix, "client.changed.v1.*") as changes:
        await parts.bus.publish(report(email.upper(), DeliveryStatus.FAILED, detail="550 5.1.1 mailbox unknown"))

        async def flagged() -> bool:
            return (await email_identifier(client, card["id"]))["undeliverable_at"] is not None
        await eventually(flagged)
        announced = ClientChanged.model_validate_json((await changes.next()).body)
    assert (announced.change, [str(i) for i in announced.client_ids]) == (ClientChange.FLAGGED, [card["id"]])
    identifier = await email_identifier(client, card["id"])
    assert identifier["undeliverable_reason"] == "550 5.1.1 mailbox unknown"
    found = await client.get("/api/v1/clients/lookup", params={"email": email}, headers=ADMIN)
    assert found.status_code == 200 and found.json()["id"] == card["id"], "a flagged address still identifies"

    await parts.bus.publish(report(email, DeliveryStatus.RETRYING))
    await parts.bus.publish(report(email, DeliveryStatus.DELIVERED))

    async def cleared() -> bool:
        return (await email_identifier(client, card["id"]))["undeliverable_at"] is None
    await eventually(cleared)


async def test_a_bounce_that_came_back_as_mail_flags_the_addresses_it_names(
        app: FastAPI, client: httpx.AsyncClient, parts: ServiceParts) -> None:
    email = unique_email()
    card = (await client.post("/api/v1/clients", headers=ADMIN,
                              json={"name": "ООО Отказ", "emails": [email]})).json()
    contact_id = uuid.uuid4()
    await parts.bus.publish(ContactReceived(
        correlation_id=contact_id, channel="email", idempotency_key=f"<bounce-{contact_id}@mx.example.ru>",
        contact=Contact(contact_id=contact_id, received_at=utcnow(),
                        sender=Sender(email="mailer-daemon@mx.example.ru", name="Mail Delivery System"),
                        subject="Undelivered Mail Returned to Sender", body="550 user unknown",
                        automated=AutomatedKind.BOUNCE, undeliverable=[email])))

    async def flagged() -> bool:
        return (await email_identifier(client, card["id"]))["undeliverable_at"] is not None
    await eventually(flagged)


async def test_flag_keeps_its_first_report_and_a_stale_delivery_does_not_clear_it(database: Database) -> None:
    email = unique_email()
    async with database.sessions() as session, session.begin():
        client_id = await register_card(session, NewClient(name="ООО Ящик", emails=[email]), POLICY)
    now = utcnow()
    async with database.sessions() as session, session.begin():
        assert await flag_undeliverable(session, [email, "not an address"], reason="first", at=now,
                                        rules=POLICY.email) == {client_id}
        assert await flag_undeliverable(session, [email], reason="second", at=now + timedelta(seconds=5),
                                        rules=POLICY.email) == set()
        assert await clear_undeliverable(session, email, delivered_at=now - timedelta(seconds=1),
                                         rules=POLICY.email) == set(), "delivered before the failure: flag stays"
        assert await flag_undeliverable(session, [unique_email()], reason="x", at=now, rules=POLICY.email) == set()
        assert await clear_undeliverable(session, email.upper(), delivered_at=now + timedelta(seconds=1),
                                         rules=POLICY.email) == {client_id}
