"""Pytest fixtures every Priyom test suite shares: real broker names and real databases, isolated per test.

Registered as the ``priyom`` pytest plugin through an entry point, so any service's tests (and an
integrator's adapter tests) get the same fixtures without importing anything.

Environment:
``AMQP_URL``                the RabbitMQ the tests use (default ``amqp://guest:guest@127.0.0.1:5672/``)
``PRIYOM_TEST_PG_URL``      an admin connection to PostgreSQL, used to create a database per test
                            (default ``postgresql://postgres@127.0.0.1:5432/postgres``)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)


@pytest.fixture
def bus_prefix() -> str:
    """A unique name prefix, so each test has its own exchanges and queues on the shared broker."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
async def cleanup_bus(amqp_url: str, bus_prefix: str) -> AsyncIterator[str]:
    """Yields ``bus_prefix`` and deletes every queue and exchange with that prefix afterwards."""
    yield bus_prefix
    await delete_prefixed(amqp_url, bus_prefix)


async def delete_prefixed(amqp_url: str, prefix: str) -> None:
    """Delete the queues and exchanges a test declared (names from :class:`priyom_contracts.Topology`)."""
    import aio_pika

    from priyom_contracts import Topology

    topology = Topology(prefix)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        names = [topology.dead_letter_queue, topology.identity_lookup_queue, topology.journal_queue]
        for spec in topology.queues.values():
            names += [spec.name, spec.retry_name]
        for name in names:
            await channel.queue_delete(name)
        for exchange in (topology.exchange, topology.dead_letter_exchange):
            await channel.exchange_delete(exchange)


def pg_admin_url() -> str:
    return os.environ.get("PRIYOM_TEST_PG_URL", DEFAULT_PG_ADMIN_URL)


async def create_pg_database(prefix: str = "priyom_t_") -> str:
    """Create an empty PostgreSQL database (named ``prefix`` and a random part) and return its SQLAlchemy
    asyncpg URL."""
    import asyncpg

    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = pg_admin_url().rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def drop_pg_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg_admin_url())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database, once on SQLite (the embedded default) and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


@pytest.fixture
def corpus_dir() -> Iterator[Path]:
    """``../shared/corpus`` beside the checkout; tests that replay it skip where it is absent."""
    root = Path(os.environ.get("PRIYOM_CORPUS_DIR", Path(__file__).resolve().parents[4] / "../shared/corpus"))
    if not root.is_dir():
        pytest.skip(f"real-world corpus not found at {root} (set PRIYOM_CORPUS_DIR)")
    yield root.resolve()
