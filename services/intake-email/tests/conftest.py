"""Real parts only: RabbitMQ on names of this test (``cleanup_bus``), a Dovecot IMAP server started here on a
high port with a throwaway configuration (LIBRARY-NOTES §4), the service's own SMTP endpoint, SQLite."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aio_pika
import pytest
from fastapi import FastAPI

from priyom_contracts import ContactReceived, Topology
from priyom_intake_email.app import create_app
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_intake_email.store import Checkpoint, migrate_database, open_checkpoints
from priyom_kit.blobs import open_blob_store
from priyom_testing.apps import started
from priyom_testing.dovecot import Dovecot, dovecot_or_skip
from priyom_testing.ports import free_port


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    with dovecot_or_skip() as server:
        yield server


@pytest.fixture
def mailbox_user() -> str:
    """A fresh mailbox per test: Dovecot's static userdb creates it on first login."""
    return f"u{uuid.uuid4().hex[:10]}"


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake-email.db'}"
    migrate_database(url)
    return url


@pytest.fixture
def settings(cleanup_bus: str, amqp_url: str, tmp_path: Path, database_file: str) -> IntakeEmailSettings:
    return IntakeEmailSettings(
        AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus, PRIYOM_BLOB_DIR=tmp_path / "blobs",
        INTAKE_EMAIL_DATABASE_URL=database_file, smtp_port=free_port(), SMTP_DOMAINS="priyom.local,example.org",
        smtp_recipients="help@partner.example", smtp_max_bytes=1024 * 1024, imap_idle_s=30, imap_poll_s=0.5,
        relay_port=free_port(), PRIYOM_RETRY_DELAY_MS=50, PRIYOM_MAX_ATTEMPTS=3,
        check_senders=False,  # no DNS here; test_sender_auth.py checks senders with answers of its own
    )


@pytest.fixture
async def running(settings: IntakeEmailSettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with started(app):
        yield app


async def original_of(settings: IntakeEmailSettings, event: ContactReceived, name: str = "original.eml") -> bytes:
    """The original mail a contact carries as an attachment, from the service's blob store."""
    [ref] = [a for a in event.contact.attachments if a.filename == name]
    return await open_blob_store(settings).get(ref.blob_key)


async def saved_checkpoint(settings: IntakeEmailSettings, mailbox: str) -> Checkpoint | None:
    """The checkpoint the service saved for ``mailbox``, read from outside it (as an operator would)."""
    async with open_checkpoints(settings.database_url) as checkpoints:
        return await checkpoints.load(mailbox)


class BusReader:
    """Reads what the service published: the contacts (identity's queue) and the dead letters."""

    def __init__(self, amqp_url: str, prefix: str) -> None:
        self.amqp_url = amqp_url
        self.topology = Topology(prefix)

    async def _drain(self, queue_name: str, count: int, timeout: float) -> list[aio_pika.abc.AbstractMessage]:
        connection = await aio_pika.connect(self.amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.get_queue(queue_name, ensure=False)
            got: list[aio_pika.abc.AbstractMessage] = []
            deadline = time.monotonic() + timeout
            while len(got) < count and time.monotonic() < deadline:
                message = await queue.get(no_ack=True, fail=False)
                if message is None:
                    await asyncio.sleep(0.05)
                    continue
                got.append(message)
            return got

    async def contacts(self, count: int, timeout: float = 20.0) -> list[ContactReceived]:
        messages = await self._drain(self.topology.queue("identity.contacts").name, count, timeout)
        return [ContactReceived.model_validate_json(m.body) for m in messages]

    async def dead_letters(self, count: int, timeout: float = 20.0) -> list[aio_pika.abc.AbstractMessage]:
        return await self._drain(self.topology.dead_letter_queue, count, timeout)

    async def published(self, queue_key: str, count: int, timeout: float = 20.0) -> list[bytes]:
        return [m.body for m in await self._drain(self.topology.queue(queue_key).name, count, timeout)]


@pytest.fixture
def bus_reader(amqp_url: str, cleanup_bus: str) -> BusReader:
    return BusReader(amqp_url, cleanup_bus)
