"""The app against the real RabbitMQ, on names of its own (``cleanup_bus``), with a blob store in tmp."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from fastapi import FastAPI

from priyom_contracts import ContactReceived, Topology
from priyom_intake_web.app import build
from priyom_intake_web.settings import IntakeWebSettings
from priyom_kit import build_app
from priyom_testing.apps import started

#: The public links' key tickets checks; here only to see that the status link carries its HMAC.
LINK_SECRET = "web-form-link-secret-for-tests"


@pytest.fixture
def settings(cleanup_bus: str, amqp_url: str, tmp_path: Path) -> IntakeWebSettings:
    return IntakeWebSettings(
        AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus, PRIYOM_BLOB_DIR=tmp_path / "blobs",
        tickets_public_url="http://tickets.test/", max_message_chars=500, max_attachments=3,
        max_attachment_bytes=1000, max_request_bytes=20_000,
        # The guards have their own tests (test_attacks.py); here every submission is a trusted one.
        challenge="none", rate_limit_per_ip="1000/minute", rate_limit_per_identifier="1000/minute",
        PRIYOM_PUBLIC_LINK_SECRET=LINK_SECRET,
    )


@pytest.fixture
async def app(settings: IntakeWebSettings) -> AsyncIterator[FastAPI]:
    app = build_app(build(settings))
    async with started(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web.test") as c:
        yield c


class ContactsQueue:
    """Reads what intake-web published from identity's queue (declared by the Bus at start)."""

    def __init__(self, queue: AbstractQueue) -> None:
        self.queue = queue

    async def next(self, timeout: float = 5.0) -> tuple[ContactReceived, AbstractIncomingMessage]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            message = await self.queue.get(no_ack=True, fail=False)
            if message is not None:
                return ContactReceived.model_validate_json(message.body), message
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("nothing was published to identity.contacts")
            await asyncio.sleep(0.05)

    async def assert_empty(self, wait: float = 0.3) -> None:
        await asyncio.sleep(wait)
        message = await self.queue.get(no_ack=True, fail=False)
        assert message is None, f"unexpected publish: {message.body[:200]!r}"


@pytest.fixture
async def contacts(app: FastAPI, amqp_url: str, settings: IntakeWebSettings) -> AsyncIterator[ContactsQueue]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        name = Topology(settings.bus_prefix).queue("identity.contacts").name
        yield ContactsQueue(await channel.get_queue(name, ensure=True))
