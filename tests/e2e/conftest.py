from __future__ import annotations

import asyncio
import os
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

from .chat_site import ChatStack, running_chat_stack

pytestmark = pytest.mark.e2e


HERE = Path(__file__).parent


def group_of(item: pytest.Item) -> str:
    """The worker group of an end-to-end test: the tests on the shared ``stack`` together, those on the chat's
    stack together, and each other module's tests together (their stacks are the module's own)."""
    fixtures = getattr(item, "fixturenames", ())
    if "stack" in fixtures:
        return "e2e-stack"
    if "chat_stack" in fixtures:
        return "e2e-chat"
    return f"e2e-{item.path.stem}"


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the group marks into node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``pytest -n`` (``make test``), the tests sharing service processes run on one worker, so each stack
    (seven or eight processes, their migrations first) starts once per run rather than once per worker that
    happens to get one of its tests; the groups themselves spread as usual. tests/contract/test_test_groups.py
    checks the grouping still works with the installed pytest and pytest-xdist."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.xdist_group(group_of(item)))


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
    env = stack_env(os.environ, workdir=workdir, prefix=prefix,
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


@pytest.fixture(scope="session")
def chat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatStack]:
    """The website chat's services (test_chat_widget.py, test_chat_typing.py), once per run."""
    with running_chat_stack(tmp_path_factory) as running:
        yield running


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
