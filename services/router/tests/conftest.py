"""Shared pieces of the router's tests: contacts as identity publishes them, rule books, a migrated database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from priyom_contracts import (
    ClientMatch,
    Contact,
    ContactIdentified,
    ContactRouted,
    MatchKind,
    Sender,
    ServiceContract,
    TicketCreated,
    TicketStatus,
)
from priyom_kit import ServiceParts, build_app
from priyom_kit.db import Database
from priyom_kit.testing import migrated_database
from priyom_router.app import build
from priyom_router.rules import RuleBook, default_rule_text, parse_rule_book
from priyom_router.settings import RouterSettings
from priyom_router.store import migrate_database
from priyom_testing.apps import started

#: A Wednesday, 12:00 in Moscow (UTC+3): inside every team's hours in the default book.
WEDNESDAY_NOON = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def contact(body: str, subject: str | None = None, *, received_at: datetime = WEDNESDAY_NOON,
            registered_by: str | None = None) -> Contact:
    return Contact(contact_id=uuid.uuid4(), received_at=received_at, sender=Sender(email="a@example.ru"),
                   subject=subject, body=body, registered_by=registered_by)


def client(*, manager: str | None = None, tier: str = "standard", tags: tuple[str, ...] = (),
           contracts: tuple[ServiceContract, ...] = (), first_contact: bool = False) -> ClientMatch:
    return ClientMatch(client_id=uuid.uuid4(), first_contact=first_contact,
                       match=MatchKind.NEW if first_contact else MatchKind.EXACT_EMAIL,
                       account_manager=manager, sla_tier=tier, tags=list(tags), contracts=list(contracts))


def identified(body: str, *, subject: str | None = None, channel: str = "email",
               match: ClientMatch | None = None, received_at: datetime = WEDNESDAY_NOON) -> ContactIdentified:
    c = contact(body, subject, received_at=received_at)
    return ContactIdentified(correlation_id=c.contact_id, channel=channel, idempotency_key=f"t:{uuid.uuid4()}",
                             contact=c, client=match or client())


def ticket_created(routed: ContactRouted, number: str, *, assignee: str | None = None,
                   status: TicketStatus = TicketStatus.NEW) -> TicketCreated:
    """The ticket.created the tickets service would publish for a routed contact (assignee: the router's)."""
    r = routed.routing
    return TicketCreated(
        correlation_id=routed.correlation_id, channel=routed.channel, idempotency_key=routed.idempotency_key,
        number=number, contact_id=routed.contact.contact_id, client_id=routed.client.client_id,
        first_contact=False, type=r.type, urgency=r.urgency, status=status, team=r.team,
        assignee=assignee or r.assignee, first_response_due_at=r.first_response_due_at,
        resolution_due_at=r.resolution_due_at)


@pytest.fixture(scope="session")
def default_book() -> RuleBook:
    return parse_rule_book(default_rule_text())


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A started :class:`Database` on a freshly migrated SQLite or PostgreSQL database."""
    async with migrated_database(database_url, migrate_database) as db:
        yield db


ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def settings(database_url: str, cleanup_bus: str, amqp_url: str) -> RouterSettings:
    """The router on its own bus names and a freshly migrated database."""
    await asyncio.to_thread(migrate_database, database_url)
    return RouterSettings(ROUTER_DATABASE_URL=database_url, AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus,
                          PRIYOM_ADMIN_TOKEN=ADMIN_TOKEN, PRIYOM_RETRY_DELAY_MS=50, PRIYOM_MAX_ATTEMPTS=3)


@pytest.fixture
def parts(settings: RouterSettings) -> ServiceParts:
    return build(settings)


@pytest.fixture
async def app(parts: ServiceParts) -> AsyncIterator[FastAPI]:
    """The service exactly as ``python -m priyom_router`` runs it, started (database and bus)."""
    app = build_app(parts)
    async with started(app):
        yield app


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router.test", headers=ADMIN) as c:
        yield c
