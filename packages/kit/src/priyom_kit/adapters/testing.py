"""The contract every channel adapter passes: subclass :class:`AdapterContract` in the adapter's test file.

Faststream tests each broker by subclassing abstract test cases, and Apprise runs one tester over every
plugin; this is the same idea. A subclass sets ``samples_dir`` and ``outbound_queue`` and provides four
fixtures (``adapter``, ``recipient``, ``refusing_recipient``, ``read_delivered``); it then inherits tests of

* normalising: each recorded sample becomes exactly the contacts in its ``*.expected.json``, twice the same
  (no clock, no randomness), and each contact is a valid ``ContactReceived`` with a stable contact id;
* registration: the adapter is installed under the ``priyom.channels`` entry point with its channel name;
* the bus, on a real RabbitMQ: an accepted contact is published confirmed with its idempotency key, a reply
  consumed from the outbound queue reaches the customer and is reported ``delivered``, a reply the
  channel refuses is reported ``failed`` and reaches no one, and a reply delivered before a restart (a new
  edge on the same delivery journal) is reported again but reaches the customer once.

A sample is ``<name>.expected.json``: ``{"input": <what the channel sent>, "contacts": [...]}``, or
``{"corpus": "<path under ../shared/corpus>", "contacts": [...]}`` for recorded real traffic that may not be
copied into the repository (the test skips where the corpus is absent). ``contacts`` holds
:meth:`Inbound.as_json` of each expected contact; ``[]`` when the input is not a contact.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

import aio_pika
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData

from priyom_contracts import (
    ChannelName,
    ContactReceived,
    DeliveryReported,
    DeliveryStatus,
    Event,
    OutboundReply,
    Recipient,
    Topology,
)
from priyom_contracts.base import Contract

from ..blobs import FileBlobStore
from ..bus import Bus
from ..db import Database
from ..settings import ServiceSettings
from .base import ChannelAdapter, Inbound
from .edge import ChannelEdge, serve_outbound
from .journal import SqlDeliveryJournal, delivery_journal_table
from .registry import registered_channels

SAMPLE_SUFFIX = ".expected.json"


def sample_files(folder: Path) -> list[Path]:
    """The recorded samples of one adapter, sorted by name."""
    return sorted(folder.glob(f"*{SAMPLE_SUFFIX}"))


def sample_input(sample: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """The raw input of a sample: inline, or read from the corpus (skipping where it is absent)."""
    if "input" in sample:
        return dict(sample["input"])
    corpus_dir: Path = request.getfixturevalue("corpus_dir")
    return dict(json.loads((corpus_dir / sample["corpus"]).read_bytes()))


class QueueReader:
    """Reads one queue of the test's topology (declared by the Bus at start) without consuming for good."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue

    async def next(self, model: type[Event], timeout: float = 5.0) -> tuple[Any, aio_pika.abc.AbstractMessage]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (message := await self.queue.get(no_ack=True, fail=False)) is None:
            if loop.time() > deadline:
                raise AssertionError(f"nothing arrived on {self.queue.name}")
            await asyncio.sleep(0.05)
        return model.model_validate_json(message.body), message

    async def assert_empty(self, wait: float = 0.3) -> None:
        await asyncio.sleep(wait)
        message = await self.queue.get(no_ack=True, fail=False)
        assert message is None, f"unexpected message on {self.queue.name}: {message.body[:200]!r}"


@asynccontextmanager
async def bus_queues(amqp_url: str, prefix: str) -> AsyncIterator[Callable[[str], Awaitable[QueueReader]]]:
    """``reader = await queues("identity.contacts")``: readers of the queues of one (test) topology."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        topology = Topology(prefix)

        async def reader(key: str) -> QueueReader:
            return QueueReader(await channel.get_queue(topology.queue(key).name, ensure=True))

        yield reader


class AdapterContract:
    """Abstract test case: every adapter's test file subclasses it (see the module docstring)."""

    #: Folder of ``*.expected.json`` samples.
    samples_dir: ClassVar[Path]
    #: The topology queue key this adapter's service consumes replies from.
    outbound_queue: ClassVar[str]

    # -- what a subclass provides -----------------------------------------------------------------------

    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        raise NotImplementedError("the adapter's test provides the `adapter` fixture")

    @pytest.fixture
    def recipient(self) -> Recipient:
        raise NotImplementedError("the adapter's test provides a reachable `recipient`")

    @pytest.fixture
    def refusing_recipient(self) -> Recipient:
        raise NotImplementedError("the adapter's test provides a `refusing_recipient` the channel refuses")

    @pytest.fixture
    def read_delivered(self) -> Callable[[], Awaitable[list[str]]]:
        raise NotImplementedError("the adapter's test provides `read_delivered`: texts the customer received")

    # -- parametrisation --------------------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "sample_file" in metafunc.fixturenames:
            files = sample_files(self.samples_dir)
            metafunc.parametrize("sample_file", files, ids=[f.name.removesuffix(SAMPLE_SUFFIX) for f in files])

    # -- normalising ------------------------------------------------------------------------------------

    def test_has_samples_with_contacts(self) -> None:
        samples = [json.loads(f.read_text("utf-8")) for f in sample_files(self.samples_dir)]
        assert sum(1 for s in samples if s["contacts"]) >= 3, "record at least three samples that are contacts"

    def test_sample_normalises_to_expected(self, adapter: ChannelAdapter, sample_file: Path,
                                           request: pytest.FixtureRequest) -> None:
        sample = json.loads(sample_file.read_text("utf-8"))
        raw = sample_input(sample, request)

        first = adapter.normalise(raw)
        again = adapter.normalise(raw)

        assert [c.as_json() for c in first] == sample["contacts"]
        assert [c.as_json() for c in again] == sample["contacts"], "normalise must be deterministic"
        for inbound in first:
            event = inbound.to_event(adapter.channel)
            assert event.routing_key == f"contact.received.v1.{adapter.channel}"
            assert event.contact.contact_id == inbound.to_event(adapter.channel).contact.contact_id
            assert event.idempotency_key == inbound.idempotency_key

    def test_channel_is_registered(self, adapter: ChannelAdapter) -> None:
        class Named(Contract):
            channel: ChannelName

        Named(channel=adapter.channel)
        assert registered_channels().get(adapter.channel) is type(adapter)

    # -- on the bus ---------------------------------------------------------------------------------------

    @pytest.fixture
    async def journal_database(self, tmp_path: Path) -> Any:
        """A SQLite database holding the delivery journal's table, as a service's migration creates it."""
        metadata = MetaData()
        table = delivery_journal_table(metadata)
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'journal.db'}")
        await database.open()
        async with database.sessions() as session:
            await session.run_sync(lambda s: metadata.create_all(s.connection()))
            await session.commit()
        try:
            yield database, table
        finally:
            await database.close()

    @pytest.fixture
    async def edge(self, adapter: ChannelAdapter, cleanup_bus: str, amqp_url: str,
                   tmp_path: Path, journal_database: Any) -> Any:
        settings = ServiceSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus,
                                   PRIYOM_RETRY_DELAY_MS=50, PRIYOM_MAX_ATTEMPTS=2)
        registry = CollectorRegistry()
        bus = Bus(settings, f"contract-{adapter.channel}", registry)
        database, table = journal_database
        edge = ChannelEdge(adapter, bus, FileBlobStore(tmp_path / "blobs"), registry, max_wait_s=2,
                           journal=SqlDeliveryJournal(lambda: database.sessions, table))
        serve_outbound(bus, self.outbound_queue, [edge])
        bus.publisher(ContactReceived)
        await bus.start()
        try:
            yield edge
        finally:
            await bus.stop()

    @pytest.fixture
    async def queues(self, edge: ChannelEdge, amqp_url: str) -> Any:
        async with bus_queues(amqp_url, edge.bus.topology.prefix) as reader:
            yield reader

    async def test_accepted_contact_is_published_confirmed(self, edge: ChannelEdge, queues: Any,
                                                           request: pytest.FixtureRequest) -> None:
        inbound = self._first_contact_without_files(edge.adapter, request)
        contacts = await queues("identity.contacts")

        published = await edge.accept(inbound)

        event, message = await contacts.next(ContactReceived)
        assert event == published
        assert message.routing_key == f"contact.received.v1.{edge.channel}"
        assert message.headers["x-idempotency-key"] == inbound.idempotency_key
        assert message.delivery_mode == 2
        assert event.contact.contact_id == inbound.contact_id

    async def test_reply_reaches_customer_and_is_reported(
            self, edge: ChannelEdge, queues: Any, recipient: Recipient,
            read_delivered: Callable[[], Awaitable[list[str]]]) -> None:
        reply, report = await _send(edge, queues, recipient, "Здравствуйте! Мы заменили фискальный накопитель.")

        assert (report.reply_id, report.ticket_number, report.status) == (
            reply.reply_id, reply.ticket_number, DeliveryStatus.DELIVERED)
        assert report.idempotency_key == f"{reply.reply_id}:delivered"
        assert report.correlation_id == reply.correlation_id
        assert report.external_message_id
        assert any(reply.body in text for text in await read_delivered())

    async def test_refused_reply_is_reported_failed(
            self, edge: ChannelEdge, queues: Any, refusing_recipient: Recipient,
            read_delivered: Callable[[], Awaitable[list[str]]]) -> None:
        reply, report = await _send(edge, queues, refusing_recipient, "Этот ответ не дойдёт")

        assert (report.reply_id, report.status) == (reply.reply_id, DeliveryStatus.FAILED)
        assert report.detail
        assert not any(reply.body in text for text in await read_delivered())

    async def test_reply_delivered_before_a_restart_is_not_sent_again(
            self, edge: ChannelEdge, queues: Any, recipient: Recipient, journal_database: Any,
            read_delivered: Callable[[], Awaitable[list[str]]]) -> None:
        reply, report = await _send(edge, queues, recipient, "Ответ, который уйдёт один раз")
        # The process after a restart: a new edge, its journal read from the same database.
        database, table = journal_database
        restarted = ChannelEdge(edge.adapter, edge.bus, edge.blobs, CollectorRegistry(),
                                journal=SqlDeliveryJournal(lambda: database.sessions, table))

        again = await restarted.deliver(reply)

        assert again == report
        assert sum(reply.body in text for text in await read_delivered()) == 1

    def _first_contact_without_files(self, adapter: ChannelAdapter, request: pytest.FixtureRequest) -> Inbound:
        for file in sample_files(self.samples_dir):
            sample = json.loads(file.read_text("utf-8"))
            if sample["contacts"] and not any(c["files"] for c in sample["contacts"]) and "input" in sample:
                return adapter.normalise(sample_input(sample, request))[0]
        raise AssertionError("record at least one inline sample that is a contact without files")


async def _send(edge: ChannelEdge, queues: Any, recipient: Recipient,
                body: str) -> tuple[OutboundReply, DeliveryReported]:
    """Publish a reply on the bus as tickets would, and read the one delivery report it causes."""
    deliveries = await queues("tickets.deliveries")
    reply_id = uuid.uuid4()
    reply = OutboundReply(correlation_id=uuid.uuid4(), channel=edge.channel, idempotency_key=str(reply_id),
                          ticket_number="2026-000042", reply_id=reply_id, recipient=recipient, body=body)
    await edge.bus.publish(reply)
    report, _ = await deliveries.next(DeliveryReported, timeout=10)
    await deliveries.assert_empty()
    return reply, report


