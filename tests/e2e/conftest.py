from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aio_pika
import pytest

from priyom_contracts import Topology
from priyom_kit.pytest_plugin import create_pg_database, delete_prefixed, drop_pg_database
from priyom_testing.stack import Stack, database_urls, stack_env

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """All seven services as real processes on a private bus prefix, once per database backend."""
    backend = request.param
    workdir = tmp_path_factory.mktemp(f"stack-{backend}")
    prefix = f"e2e{uuid.uuid4().hex[:8]}."
    urls = database_urls(backend, workdir, lambda: asyncio.run(create_pg_database()))
    env = stack_env(os.environ, workdir=workdir, prefix=prefix, admin_token=secrets.token_urlsafe(24),
                    database_urls=urls)
    running = Stack(env=env, workdir=workdir)
    try:
        running.migrate()
        running.start()
        yield running
    finally:
        running.stop()
        amqp_url = env.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
        asyncio.run(delete_prefixed(amqp_url, prefix))
        if backend == "postgresql":
            for url in urls.values():
                asyncio.run(drop_pg_database(url))


@pytest.fixture
def topology(stack: Stack) -> Topology:
    return Topology(stack.env["PRIYOM_BUS_PREFIX"])


@pytest.fixture
async def tap(amqp_url: str, topology: Topology) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """An exclusive queue that sees a copy of every message on the bus from now on."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(topology.exchange)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="#")
        yield queue


@pytest.fixture(scope="session")
def workdir(stack: Stack) -> Path:
    return stack.workdir
