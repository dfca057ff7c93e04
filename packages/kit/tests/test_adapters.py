"""The adapter kit's bus edge against the real RabbitMQ, with a scripted channel standing in for a messenger."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import MetaData

from priyom_contracts import (
    ContactReceived,
    DeliveryReported,
    DeliveryStatus,
    MessengerId,
    OutboundReply,
    Recipient,
    Sender,
    Topology,
)
from priyom_kit import Bus, ServiceParts, ServiceSettings, TransientError, build_app
from priyom_kit.adapters import (
    ChannelAdapter,
    ChannelEdge,
    Delivered,
    DeliveryError,
    FileRef,
    FileUnavailable,
    Inbound,
    SqlDeliveryJournal,
    delivery_journal_table,
    merge_parts,
    serve_outbound,
)
from priyom_kit.adapters.testing import QueueReader, bus_queues
from priyom_kit.blobs import FileBlobStore
from priyom_kit.db import Database
from priyom_testing.apps import started

WHEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class ScriptedChannel(ChannelAdapter):
    """A channel whose far end answers each delivery as scripted, and holds a few files."""

    channel = "telegram"

    def __init__(self, outcomes: list[Delivered | DeliveryError] | None = None) -> None:
        self.outcomes = outcomes or []
        self.attempts: list[OutboundReply] = []
        self.files = {"scan-1": b"scan bytes", "undeclared": b"x" * 200}

    def normalise(self, raw: Mapping[str, Any]) -> list[Inbound]:
        return [inbound(raw["key"])]

    async def fetch(self, file: FileRef) -> bytes:
        if file.ref not in self.files:
            raise FileUnavailable("expired")
        return self.files[file.ref]

    async def deliver(self, reply: OutboundReply) -> Delivered:
        self.attempts.append(reply)
        outcome = self.outcomes.pop(0) if self.outcomes else Delivered("ext-1")
        if isinstance(outcome, DeliveryError):
            raise outcome
        return outcome


def inbound(key: str, body: str = "Здравствуйте", files: tuple[FileRef, ...] = ()) -> Inbound:
    return Inbound(idempotency_key=key, received_at=WHEN, body=body, files=files,
                   sender=Sender(name="Ольга", messenger=MessengerId(channel="telegram", user_id="55")))


def reply(channel: str = "telegram") -> OutboundReply:
    reply_id = uuid.uuid4()
    return OutboundReply(correlation_id=uuid.uuid4(), channel=channel, idempotency_key=str(reply_id),
                         ticket_number="2026-000007", reply_id=reply_id, body="Ответ",
                         recipient=Recipient(messenger=MessengerId(channel=channel, user_id="55")))


@pytest.fixture
async def running(cleanup_bus: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    settings = ServiceSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus, PRIYOM_RETRY_DELAY_MS=50,
                               PRIYOM_MAX_ATTEMPTS=3)
    registry = CollectorRegistry()
    bus = Bus(settings, "kit-adapter-test", registry)
    channel = ScriptedChannel()
    edge = ChannelEdge(channel, bus, FileBlobStore(tmp_path / "blobs"), registry, max_file_bytes=100,
                       max_flood_waits=2, max_wait_s=1)
    serve_outbound(bus, "intake-messenger.outbound", [edge])
    await bus.start()
    try:
        yield {"bus": bus, "edge": edge, "channel": channel, "registry": registry}
    finally:
        await bus.stop()


@pytest.fixture
async def queues(amqp_url: str, cleanup_bus: str) -> AsyncIterator[Any]:
    async with bus_queues(amqp_url, cleanup_bus) as reader:
        yield reader


def test_contact_id_follows_from_the_idempotency_key() -> None:
    first, again, other = inbound("tg:1:10"), inbound("tg:1:10", body="другой текст"), inbound("tg:1:11")

    assert first.contact_id == again.contact_id != other.contact_id
    event = first.to_event("telegram")
    assert (event.correlation_id, event.contact.contact_id) == (first.contact_id, first.contact_id)
    assert event.routing_key == "contact.received.v1.telegram"


def test_album_parts_merge_in_order() -> None:
    a = inbound("tg:1:album:5", body="подпись", files=(FileRef("f1", "1.jpg"),))
    b = inbound("tg:1:album:5", body="", files=(FileRef("f2", "2.jpg"),))

    merged = merge_parts([a, b])

    assert (merged.idempotency_key, merged.body) == ("tg:1:album:5", "подпись")
    assert [f.ref for f in merged.files] == ["f1", "f2"]
    with pytest.raises(ValueError):
        merge_parts([])


async def test_accept_stores_files_and_names_those_it_could_not(running: dict[str, Any], queues: Any,
                                                                tmp_path: Path) -> None:
    contacts = await queues("identity.contacts")
    files = (FileRef("scan-1", "скан.png", "image/png", 10), FileRef("old", "старое.pdf", size=5),
             FileRef("huge", "видео.mp4", "video/mp4", size=10_000), FileRef("undeclared", "архив.zip"))

    published = await running["edge"].accept(inbound("tg:1:20", body="Смотрите вложения", files=files))

    event, _ = await contacts.next(ContactReceived)
    assert event == published
    [stored] = event.contact.attachments
    assert (stored.filename, stored.content_type, stored.size) == ("скан.png", "image/png", 10)
    assert await FileBlobStore(tmp_path / "blobs").get(stored.blob_key) == b"scan bytes"
    assert event.contact.body.splitlines() == [
        "Смотрите вложения", "",
        "[file not available from the channel (expired): старое.pdf]", "",
        "[file not stored, 10000 bytes is over the limit: видео.mp4]", "",
        "[file not stored, 200 bytes is over the limit: архив.zip]",
    ]
    metrics = generate_latest(running["registry"]).decode()
    assert 'priyom_channel_contacts_total{channel="telegram"} 1.0' in metrics


async def test_flood_limit_reported_once_then_delivered(running: dict[str, Any], queues: Any) -> None:
    running["channel"].outcomes = [DeliveryError("429", retry_after=0.05), DeliveryError("429", retry_after=0.05),
                                   Delivered("ext-9")]
    deliveries = await queues("tickets.deliveries")

    report = await running["edge"].deliver(reply())

    statuses = [(await deliveries.next(DeliveryReported))[0].status for _ in range(2)]
    await deliveries.assert_empty()
    assert statuses == [DeliveryStatus.RETRYING, DeliveryStatus.DELIVERED]
    assert (report.status, report.external_message_id) == (DeliveryStatus.DELIVERED, "ext-9")
    assert len(running["channel"].attempts) == 3


async def test_flood_limit_beyond_patience_goes_back_to_the_bus(running: dict[str, Any]) -> None:
    running["channel"].outcomes = [DeliveryError("429", retry_after=30)]  # over max_wait_s

    with pytest.raises(TransientError):
        await running["edge"].deliver(reply())


async def test_transient_failure_is_retried_by_the_bus_and_reported_once(running: dict[str, Any],
                                                                         queues: Any) -> None:
    running["channel"].outcomes = [DeliveryError("peer unreachable")]
    deliveries = await queues("tickets.deliveries")
    sent = reply()

    await running["bus"].publish(sent)

    report, _ = await deliveries.next(DeliveryReported, timeout=10)
    await deliveries.assert_empty()
    assert (report.reply_id, report.status) == (sent.reply_id, DeliveryStatus.DELIVERED)
    assert [a.reply_id for a in running["channel"].attempts] == [sent.reply_id, sent.reply_id]


async def test_reply_for_a_channel_not_served_is_dead_lettered_with_the_reason(
        running: dict[str, Any], amqp_url: str, cleanup_bus: str) -> None:
    await running["bus"].publish(reply(channel="webhook"))  # bound to the same queue, no adapter here

    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        dead = QueueReader(await channel.get_queue(Topology(cleanup_bus).dead_letter_queue, ensure=True))
        _, message = await dead.next(OutboundReply, timeout=10)
    assert "no adapter for channel 'webhook'" in str(message.headers["x-error"])
    assert message.headers["x-error-kind"] == "permanent"
    assert running["channel"].attempts == []


async def test_a_redelivered_reply_is_reported_again_but_not_sent_twice(running: dict[str, Any],
                                                                         queues: Any) -> None:
    deliveries = await queues("tickets.deliveries")
    sent = reply()

    first = await running["edge"].deliver(sent)
    again = await running["edge"].deliver(sent)

    reports = [(await deliveries.next(DeliveryReported))[0] for _ in range(2)]
    assert [a.reply_id for a in running["channel"].attempts] == [sent.reply_id]
    assert first == again
    assert {r.idempotency_key for r in reports} == {f"{sent.reply_id}:delivered"}


async def test_a_reply_delivered_before_a_restart_is_not_sent_again(cleanup_bus: str, amqp_url: str,
                                                                    database_url: str, tmp_path: Path,
                                                                    queues: Any) -> None:
    """Two edges on one database stand for the process before and after a restart: the journal, not the
    process's memory, says the reply went out."""
    metadata = MetaData()
    table = delivery_journal_table(metadata)
    database = Database(database_url)
    await database.open()
    async with database.sessions() as session:
        await session.run_sync(lambda s: metadata.create_all(s.connection()))
        await session.commit()
    settings = ServiceSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus)
    sent = reply()
    channels: list[ScriptedChannel] = []
    try:
        for _ in range(2):
            registry = CollectorRegistry()
            bus = Bus(settings, "kit-journal-test", registry)
            bus.publisher(DeliveryReported)
            await bus.start()  # declares the deliveries queue, read below
            deliveries = await queues("tickets.deliveries")
            channel = ScriptedChannel([Delivered(f"ext-{len(channels)}")])
            channels.append(channel)
            edge = ChannelEdge(channel, bus, FileBlobStore(tmp_path / "blobs"), registry,
                               journal=SqlDeliveryJournal(lambda: database.sessions, table))
            try:
                await edge.deliver(sent)
            finally:
                await bus.stop()
        reports = [(await deliveries.next(DeliveryReported))[0] for _ in range(2)]
    finally:
        await database.close()
    assert [len(c.attempts) for c in channels] == [1, 0]
    assert reports[0] == reports[1]
    assert reports[1].external_message_id == "ext-0"  # the first delivery's, reported again


def test_importing_the_kit_or_a_pure_adapter_name_loads_no_broker_or_web_framework() -> None:
    code = ("import sys, priyom_kit, priyom_kit.adapters\n"
            "from priyom_kit.adapters import Inbound, FileRef, merge_parts\n"
            "heavy = {'faststream', 'aio_pika', 'fastapi', 'sqlalchemy', 'prometheus_client'} & set(sys.modules)\n"
            "assert not heavy, heavy\n"
            "from priyom_kit import Bus\n"
            "from priyom_kit.adapters import ChannelEdge\n"
            "assert 'faststream' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_after_start_hooks_run_once_the_bus_is_up_and_before_stop_hooks_while_it_is(
        cleanup_bus: str, amqp_url: str) -> None:
    settings = ServiceSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus)
    registry = CollectorRegistry()
    bus = Bus(settings, "kit-hooks-test", registry)
    seen: list[tuple[str, bool]] = []

    async def note(name: str) -> None:
        seen.append((name, await bus.ping()))

    app = build_app(ServiceParts(name="hooks", title="hooks", settings=settings, bus=bus, registry=registry,
                                 on_start=[lambda: note("on_start")], after_start=[lambda: note("after_start")],
                                 before_stop=[lambda: note("before_stop")], on_stop=[lambda: note("on_stop")]))
    async with started(app):
        pass
    assert seen == [("on_start", False), ("after_start", True), ("before_stop", True), ("on_stop", False)]
