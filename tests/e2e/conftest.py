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
from priyom_testing.ports import free_port
from priyom_testing.smtp_sink import MailSink, running_sink
from priyom_testing.stack import Stack, database_urls, stack_env

pytestmark = pytest.mark.e2e


HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the group marks into node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``pytest -n`` (``make test``), the tests on the shared ``stack`` run on one worker, so the seven
    services start once per backend rather than once per worker; the rest spread as usual."""
    for item in items:
        if item.path.is_relative_to(HERE) and "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("e2e-stack"))


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSink]:
    """The SMTP relay the stack's intake-email sends replies and notices to: what the customers receive."""
    with running_sink(free_port()) as sink:
        yield sink


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          mail_sink: MailSink) -> Iterator[Stack]:
    """All eight services as real processes on a private bus prefix, once per database backend."""
    backend = request.param
    workdir = tmp_path_factory.mktemp(f"stack-{backend}")
    prefix = f"e2e{uuid.uuid4().hex[:8]}."
    urls = database_urls(backend, workdir, lambda: asyncio.run(create_pg_database()))
    env = stack_env(os.environ, workdir=workdir, prefix=prefix, admin_token=secrets.token_urlsafe(24),
                    database_urls=urls)
    env.update(INTAKE_EMAIL_RELAY_PORT=str(mail_sink.port), INTAKE_EMAIL_RELAY_STARTTLS="false")
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
