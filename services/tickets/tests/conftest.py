"""Fixtures of the tickets tests: a migrated database (SQLite and PostgreSQL), routed contacts to feed it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from priyom_contracts import (
    AttachmentRef,
    ClientMatch,
    Contact,
    ContactRouted,
    ContactType,
    MatchKind,
    Routing,
    Sender,
    ThreadHint,
    TicketCreated,
    Topology,
    Urgency,
    utcnow,
)
from priyom_kit import Principal, Role, ServiceParts
from priyom_kit.blobs import FileBlobStore
from priyom_kit.db import Database, Inbox
from priyom_kit.public_links import KEY_PARAM, link_key
from priyom_kit.pytest_plugin import create_pg_database, drop_pg_database, pg_admin_url
from priyom_testing.apps import started
from priyom_tickets import handlers, tables
from priyom_tickets.access import Staff, StaffRole
from priyom_tickets.app import build, create_app
from priyom_tickets.arrivals import register_contact
from priyom_tickets.notifications import outbound_channels
from priyom_tickets.numbering import format_number
from priyom_tickets.policy import Policy
from priyom_tickets.settings import TicketsSettings

MakeRouted = Callable[..., ContactRouted]



@pytest.fixture
def nth() -> Callable[[int], str]:
    """The number of this year's ``count``-th ticket (without settings, years are counted in UTC)."""
    return lambda count: format_number(utcnow().year, count)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per session; each test gets a copy (CREATE DATABASE … TEMPLATE),
    which takes a fraction of running six migrations per test. The migrations themselves are still run on
    SQLite per test and checked against the declared schema on both."""
    # First asked for from inside a test's event loop: do the work on a thread of its own.
    with ThreadPoolExecutor(1) as thread:
        url = thread.submit(lambda: asyncio.run(create_pg_database())).result()
        thread.submit(tables.migrate_database, url).result()
    yield url.rsplit("/", 1)[1]
    with ThreadPoolExecutor(1) as thread:
        thread.submit(lambda: asyncio.run(drop_pg_database(url))).result()


@pytest.fixture(params=["sqlite", "postgresql"])
async def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database at the newest schema: a fresh SQLite file migrated here, or a copy of the PG template."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        # Alembic's env runs its own event loop, which cannot nest in the test's: give it a thread.
        await asyncio.to_thread(tables.migrate_database, url)
        yield url
        return
    template = request.getfixturevalue("pg_template")
    name = f"priyom_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    url = pg_admin_url().rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    try:
        yield url
    finally:
        await drop_pg_database(url)


@pytest.fixture
async def database(migrated_url: str) -> AsyncIterator[Database]:
    db = Database(migrated_url)
    await db.open()
    yield db
    await db.close()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox(tables.inbox, handlers.CONSUMER)


@pytest.fixture
def make_routed() -> MakeRouted:
    """Build a ``contact.routed`` event as the router publishes it; keyword arguments override the parts."""

    def make(
        *,
        channel: str = "web",
        key: str | None = None,
        contact_id: uuid.UUID | None = None,
        client_id: uuid.UUID | None = None,
        first_contact: bool = True,
        body: str = "Здравствуйте! Не работает выгрузка отчётов с утра.",
        subject: str | None = "Выгрузка отчётов",
        attachments: list[AttachmentRef] | None = None,
        thread: ThreadHint | None = None,
        sender: Sender | None = None,
        **routing: Any,
    ) -> ContactRouted:
        contact_id = contact_id or uuid.uuid4()
        received = utcnow()
        decision = {
            "type": ContactType.SERVICE_REQUEST, "category": "service", "urgency": Urgency.NORMAL,
            "team": "service", "assignee": None, "reason": "team queue service (service-words)",
            "first_response_due_at": received + timedelta(hours=4),
            "resolution_due_at": received + timedelta(days=3),
        } | routing
        return ContactRouted(
            correlation_id=contact_id,
            channel=channel,
            idempotency_key=key or f"form-{uuid.uuid4()}",
            contact=Contact(
                contact_id=contact_id, received_at=received, subject=subject, body=body,
                sender=sender or Sender(name="Анна Петрова", email="anna@example.ru", phone="+7 912 000-00-00"),
                attachments=attachments or [], thread=thread or ThreadHint(),
            ),
            client=ClientMatch(client_id=client_id or uuid.uuid4(), person_id=uuid.uuid4(),
                               display_name="ООО Ромашка", first_contact=first_contact,
                               match=MatchKind.NEW if first_contact else MatchKind.EXACT_EMAIL),
            routing=Routing(**decision),
        )

    return make


#: The public links' key, shared with intake-web in a deployment; and a limit the tests can reach.
LINK_SECRET = SecretStr("public-link-secret-for-tests")
LINK_RATE = "30/minute"


def public_link(contact_id: uuid.UUID, what: str = "ticket") -> str:
    """The link intake-web hands the customer: the contact's path with its key."""
    return f"/api/v1/contacts/{contact_id}/{what}?{KEY_PARAM}={link_key(LINK_SECRET, contact_id)}"


TOKENS = {
    # A first-line agent of the two teams the tests route to; access rules are tested in test_access.py.
    "agent-token": Staff("Иванова", frozenset({Role.AGENT}), StaffRole.AGENT, frozenset({"service", "sales"})),
    "supervisor-token": Principal("Смирнов", frozenset({Role.SUPERVISOR})),
    "service-token": Principal("intake-web", frozenset({Role.SERVICE})),
    "admin-token": Principal("admin", frozenset({Role.ADMIN})),
}


async def authenticate(token: str) -> Principal | None:
    return TOKENS.get(token)


@dataclass
class Tickets:
    client: httpx.AsyncClient
    database: Database
    inbox: Inbox
    blobs: FileBlobStore
    policy: Policy
    prefix: str
    #: The running service's parts: its own bus publishes what another service would.
    parts: ServiceParts

    async def register(self, event: ContactRouted) -> TicketCreated:
        created, _ = await register_contact(self.database.sessions, self.inbox, event, self.policy)
        assert isinstance(created, TicketCreated)
        return created


@pytest.fixture
async def tickets(migrated_url: str, cleanup_bus: str, amqp_url: str, tmp_path: Path,
                  database: Database, inbox: Inbox) -> AsyncIterator[Tickets]:
    settings = TicketsSettings(TICKETS_DATABASE_URL=migrated_url, PRIYOM_BUS_PREFIX=cleanup_bus,
                               AMQP_URL=amqp_url, PRIYOM_BLOB_DIR=str(tmp_path / "blobs"),
                               PRIYOM_PUBLIC_LINK_SECRET=LINK_SECRET.get_secret_value(),
                               public_link_rate=LINK_RATE)
    parts = build(settings, authenticator=authenticate)
    app = create_app(parts)
    # The default 5 s shutdown is too short on a busy machine (a stop flushes the outbox and the tracer).
    async with started(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tickets.test") as client:
        policy = Policy(zone=settings.zone, outbound_channels=outbound_channels(Topology(cleanup_bus)))
        yield Tickets(client, database, inbox, FileBlobStore(settings.blob_dir), policy, cleanup_bus, parts)
