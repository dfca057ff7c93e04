"""Through a real identity process and the real broker: a merge made in identity moves the merged-away card's
tickets to the surviving card, and an address identity flags after a bounce is no longer where replies go.

Identity and tickets run as in test_client_card.py (identity under uvicorn on its own migrated database,
tickets' app reading cards from it with its own credential); they talk over ``client.changed.v1``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry
from sqlalchemy import select

from priyom_contracts import AutomatedKind, Contact, ContactReceived, Sender, TicketCreated, utcnow
from priyom_kit import Bus
from priyom_kit.db import Database, Inbox
from priyom_tickets import handlers, tables
from priyom_tickets.arrivals import register_contact
from priyom_tickets.policy import Policy
from priyom_tickets.settings import TicketsSettings

from .conftest import MakeRouted
from .test_client_card import Identity, bearer, identity, tickets_app  # noqa: F401 - identity is a fixture

QUIET_POLICY = Policy(zone=ZoneInfo("UTC"), outbound_channels=frozenset())


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.1)


def bounce(email: str) -> ContactReceived:
    """A bounce that came back as mail, as intake-email publishes it: identity flags the address it names."""
    contact_id = uuid.uuid4()
    return ContactReceived(
        correlation_id=contact_id, channel="email", idempotency_key=f"<bounce-{contact_id}@mx.example.ru>",
        contact=Contact(contact_id=contact_id, received_at=utcnow(),
                        sender=Sender(email="mailer-daemon@mx.example.ru", name="Mail Delivery System"),
                        subject="Undelivered Mail Returned to Sender", body="550 user unknown",
                        automated=AutomatedKind.BOUNCE, undeliverable=[email]))


async def test_identitys_merge_and_flag_reach_the_tickets(
        identity: Identity, tmp_path: Path, cleanup_bus: str, amqp_url: str,  # noqa: F811 - the fixture
        make_routed: MakeRouted) -> None:
    kept = await identity.http.post("/api/v1/clients", json={"name": "ООО Ромашка",
                                                            "emails": ["ivan.work@romashka.example"]})
    duplicate = await identity.http.post("/api/v1/clients", json={"name": "Ромашка (дубль)",
                                                                 "emails": ["ivan@romashka.example"]})
    assert kept.status_code == duplicate.status_code == 201, (kept.text, duplicate.text)
    target, source = uuid.UUID(kept.json()["id"]), uuid.UUID(duplicate.json()["id"])

    async with tickets_app(tmp_path, cleanup_bus, amqp_url, identity.url) as (client, tickets_db):
        created, _ = await register_contact(
            tickets_db.sessions, Inbox(tables.inbox, handlers.CONSUMER),
            make_routed(channel="email", client_id=source, first_contact=False,
                        sender=Sender(name="Иван", email="ivan@romashka.example")), QUIET_POLICY)
        assert isinstance(created, TicketCreated)

        merged = await identity.http.post(f"/api/v1/clients/{target}/merge", json={"source_id": str(source)})
        assert merged.status_code == 200, merged.text

        async def followed() -> bool:
            return await owner(tickets_db, created.number) == target
        await eventually(followed)

        # intake-email's part: the bounce of a mail to the old address comes back.
        feed = Bus(TicketsSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus), "test-feed",
                   CollectorRegistry())
        await feed.start()
        try:
            await feed.publish(bounce("ivan@romashka.example"))
        finally:
            await feed.stop()

        async def routed_around() -> bool:
            path = await client.get(f"/api/v1/tickets/{created.number}/reply-path", headers=bearer("agent"))
            return path.json()["address"] == "ivan.work@romashka.example"
        await eventually(routed_around)
        path = (await client.get(f"/api/v1/tickets/{created.number}/reply-path", headers=bearer("agent"))).json()
        assert "ivan@romashka.example" in path["warning"]


async def owner(database: Database, number: str) -> uuid.UUID:
    async with database.sessions() as session:
        return (await session.execute(select(tables.tickets.c.client_id)
                                      .where(tables.tickets.c.number == number))).scalar_one()
