"""The bus side of every channel: store files, publish confirmed, deliver replies, report the result.

A channel adapter (:class:`~priyom_kit.adapters.base.ChannelAdapter`) knows its protocol; this module knows
the bus, so that no adapter repeats it. Nothing is lost: :meth:`ChannelEdge.accept` returns only after the
broker confirmed the contact, so the receiving code answers the channel (webhook 200, next ``getUpdates``
offset) only then, and a failure surfaces to it as an exception (5xx, no confirmation: the channel re-sends).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from dataclasses import replace

from prometheus_client import CollectorRegistry, Counter

from priyom_contracts import (
    AttachmentRef,
    ContactReceived,
    DeliveryReported,
    DeliveryStatus,
    OutboundReply,
    binding,
)

from ..blobs import BlobStore
from ..bus import Bus
from ..errors import PermanentError, TransientError
from ..logging import get_logger
from .base import ChannelAdapter, DeliveryError, FileUnavailable, Inbound
from .journal import DeliveryJournal, RecentDeliveries

log = get_logger("priyom.adapters")


class ChannelEdge:
    """One adapter on the bus. Build it in the service's ``app.py``; register outbound with :func:`serve_outbound`.

    ``max_flood_waits``: how many times a reply waits out the channel's ``retry_after`` in place before the
    delivery is handed back to the bus's retry (a wait longer than ``max_wait_s`` is handed back at once).
    ``journal`` remembers the replies delivered; give a service its
    :class:`~priyom_kit.adapters.journal.SqlDeliveryJournal`, so that a reply redelivered after a restart is
    not sent again (the default, in memory, only covers redeliveries to the same process).
    """

    def __init__(self, adapter: ChannelAdapter, bus: Bus, blobs: BlobStore, registry: CollectorRegistry, *,
                 max_file_bytes: int = 20 * 1024 * 1024, max_flood_waits: int = 3,
                 max_wait_s: float = 60.0, journal: DeliveryJournal | None = None) -> None:
        self.adapter = adapter
        self.bus = bus
        self.blobs = blobs
        self.max_file_bytes = max_file_bytes
        self.max_flood_waits = max_flood_waits
        self.max_wait_s = max_wait_s
        self.journal: DeliveryJournal = journal if journal is not None else RecentDeliveries()
        self._received = _counter(registry, "priyom_channel_contacts_total", "Contacts published")
        self._delivered = _counter(registry, "priyom_channel_replies_total", "Reply delivery results",
                                   "status")

    @property
    def channel(self) -> str:
        return self.adapter.channel

    async def after_start(self) -> None:
        """Run the adapter's :meth:`~ChannelAdapter.after_start` (register a webhook…) once the bus is up;
        a service lists it in ``ServiceParts.after_start``."""
        await self.adapter.after_start()

    async def accept(self, inbound: Inbound) -> ContactReceived:
        """Fetch and store the contact's files, publish it confirmed, and return the published event."""
        attachments: list[AttachmentRef] = []
        skipped: list[str] = []
        for file in inbound.files:
            # An oversized or vanished file does not hold the contact back: the agent sees which file to ask
            # for another way. The declared size spares the download; the real one is checked too.
            if file.size is not None and file.size > self.max_file_bytes:
                skipped.append(f"[file not stored, {file.size} bytes is over the limit: {file.filename}]")
                continue
            try:
                data = await self.adapter.fetch(file)
            except FileUnavailable as exc:
                skipped.append(f"[file not available from the channel ({exc}): {file.filename}]")
                continue
            if len(data) > self.max_file_bytes:
                skipped.append(f"[file not stored, {len(data)} bytes is over the limit: {file.filename}]")
                continue
            key = await self.blobs.put(data)
            attachments.append(AttachmentRef(blob_key=key, filename=file.filename,
                                             content_type=file.content_type, size=len(data)))
        if skipped:
            inbound = replace(inbound, body="\n\n".join(filter(None, [inbound.body, *skipped])))
        event = inbound.to_event(self.channel, attachments)
        await self.bus.publish(event)
        self._received.labels(self.channel).inc()
        log.info("contact published", channel=self.channel, contact_id=str(event.contact.contact_id),
                 attachments=len(attachments))
        return event

    async def dead_letter(self, raw: bytes, reason: str, *, source: str,
                          content_type: str = "application/json") -> None:
        """Keep something that arrived but can never become a contact, whole, in the dead-letter queue
        (:meth:`Bus.dead_letter <priyom_kit.bus.Bus.dead_letter>`, under this channel's contact routing key).
        Confirm it to the channel only after this returned, like a contact.
        """
        await self.bus.dead_letter(raw, reason, source, routing_key=binding(ContactReceived, self.channel),
                                   content_type=content_type)
        # The reason may quote what the customer sent: it stays in the dead-letter queue, not in the log.
        log.error("dead-lettered what arrived", channel=self.channel, source=source)

    async def deliver(self, reply: OutboundReply) -> DeliveryReported:
        """Deliver one reply, honouring the channel's flood limits, and publish the result for the ticket.

        A refusal (:attr:`DeliveryError.permanent`) is reported ``failed``; a flood limit is reported
        ``retrying`` once and waited out; any other failure raises, so the bus retries with backoff. A reply
        the journal holds as delivered is reported again but not sent again.
        """
        if (done := await self.journal.delivered(reply.reply_id)) is not None:
            # A redelivery of a reply already sent (the ack was lost, the process restarted): report again,
            # never send twice.
            await self.bus.publish(done)
            log.info("reply already delivered, reported again", channel=self.channel,
                     reply_id=str(reply.reply_id))
            return done
        waits = 0
        while True:
            try:
                delivered = await self.adapter.deliver(reply)
            except DeliveryError as exc:
                if exc.permanent:
                    return await self._report(reply, DeliveryStatus.FAILED, exc.detail)
                if exc.retry_after is None:
                    raise TransientError(exc.detail) from exc
                if waits == 0:
                    await self._report(reply, DeliveryStatus.RETRYING,
                                       f"{exc.detail}; retrying after {exc.retry_after:g} s")
                waits += 1
                if waits > self.max_flood_waits or exc.retry_after > self.max_wait_s:
                    raise TransientError(exc.detail) from exc
                await asyncio.sleep(exc.retry_after)
                continue
            report = self._report_of(reply, DeliveryStatus.DELIVERED, None, delivered.external_message_id)
            # Recorded before it is published: from here on a redelivery is never sent again.
            await self.journal.record(report)
            return await self._publish_report(report)

    async def _report(self, reply: OutboundReply, status: DeliveryStatus, detail: str | None) -> DeliveryReported:
        return await self._publish_report(self._report_of(reply, status, detail))

    def _report_of(self, reply: OutboundReply, status: DeliveryStatus, detail: str | None,
                   external_id: str | None = None) -> DeliveryReported:
        return DeliveryReported(
            correlation_id=reply.correlation_id, channel=self.channel,
            idempotency_key=f"{reply.reply_id}:{status.value}", ticket_number=reply.ticket_number,
            reply_id=reply.reply_id, status=status, detail=detail, external_message_id=external_id,
        )

    async def _publish_report(self, report: DeliveryReported) -> DeliveryReported:
        await self.bus.publish(report)
        self._delivered.labels(self.channel, report.status.value).inc()
        log.info("reply reported", channel=self.channel, reply_id=str(report.reply_id), status=report.status.value)
        return report


def serve_outbound(bus: Bus, queue_key: str, edges: Iterable[ChannelEdge]) -> None:
    """Consume one outbound queue and hand each reply to the edge of its channel.

    A reply for a channel this service does not serve can never succeed here: it is dead-lettered at once.
    """
    by_channel = {edge.channel: edge for edge in edges}

    @bus.consumer(queue_key)
    async def on_outbound_reply(reply: OutboundReply) -> None:
        edge = by_channel.get(reply.channel)
        if edge is None:
            raise PermanentError(f"no adapter for channel {reply.channel!r} in {bus.service}")
        await edge.deliver(reply)

    bus.publisher(DeliveryReported)


_COUNTERS: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, Counter]] = weakref.WeakKeyDictionary()


def _counter(registry: CollectorRegistry, name: str, doc: str, *labels: str) -> Counter:
    # Several edges share one registry (one service, several channels): one metric, labelled by channel.
    counters = _COUNTERS.setdefault(registry, {})
    if name not in counters:
        counters[name] = Counter(name, doc, ["channel", *labels], registry=registry)
    return counters[name]
