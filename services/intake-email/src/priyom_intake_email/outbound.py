"""Replies and notices from tickets, sent through the configured relay (aiosmtplib).

Each :class:`~priyom_contracts.OutboundReply` is sent once (the sent reply ids are recorded, and the
Message-ID is derived from the reply id, so even a resend after a crash is one message to the receiver's
deduplication) and its result is reported to the ticket as ``reply.reported.v1.email``: ``delivered`` with
the Message-ID (tickets threads the customer's answer through it), ``retrying`` on each transient failure
(the bus retries with doubling delays), and ``failed`` when the relay refuses for good (5xx) or the
attempts are spent.

The kit's ``ChannelEdge`` reports ``failed`` only for permanent refusals and lets exhausted retries go to
the dead-letter queue unreported; mail needs the ticket told, so this consumer reports itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.message import EmailMessage

import aiosmtplib
from aio_pika.abc import AbstractIncomingMessage

from priyom_contracts import DeliveryReported, DeliveryStatus, OutboundReply
from priyom_kit import Bus
from priyom_kit.blobs import BlobStore
from priyom_kit.bus import ATTEMPT_HEADER
from priyom_kit.errors import TransientError
from priyom_kit.logging import get_logger

from .intake import CHANNEL
from .mail.compose import OutgoingFile, OutgoingMail, compose, message_id_for
from .relay import permanent
from .settings import IntakeEmailSettings
from .store import SentReplies

log = get_logger("priyom.intake-email.outbound")

Send = Callable[[EmailMessage], Awaitable[object]]


class ReplySender:
    """Sends one reply and reports the result; raises :class:`TransientError` to have the bus retry."""

    def __init__(self, *, bus: Bus, settings: IntakeEmailSettings, blobs: BlobStore, sent: SentReplies,
                 send: Send) -> None:
        self.bus = bus
        self.settings = settings
        self.blobs = blobs
        self.sent = sent
        self.send = send

    async def handle(self, reply: OutboundReply, attempt: int) -> DeliveryReported:
        if reply.recipient.email is None:
            return await self._report(reply, DeliveryStatus.FAILED, "the reply has no e-mail address")
        already = await self.sent.message_id(reply.reply_id)
        if already is not None:  # a redelivery after the send: report again, do not mail the customer twice
            return await self._report(reply, DeliveryStatus.DELIVERED, None, already)
        message = await self._message(reply)
        message_id = message_id_for(str(reply.reply_id), self.settings.from_address)
        try:
            await self.send(message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            detail = f"{type(exc).__name__}: {exc}"[:2000]
            if permanent(exc):
                return await self._report(reply, DeliveryStatus.FAILED, detail)
            if attempt >= self.bus.max_attempts:
                return await self._report(reply, DeliveryStatus.FAILED, f"gave up after {attempt} attempts: {detail}")
            await self._report(reply, DeliveryStatus.RETRYING, f"attempt {attempt}: {detail}", attempt=attempt)
            raise TransientError(detail) from exc
        await self.sent.record(reply.reply_id, message_id)
        return await self._report(reply, DeliveryStatus.DELIVERED, None, message_id)

    async def _message(self, reply: OutboundReply) -> EmailMessage:
        files = [OutgoingFile(ref.filename, ref.content_type, await self.blobs.get(ref.blob_key))
                 for ref in reply.attachments]
        mail = OutgoingMail(
            reply_id=str(reply.reply_id), ticket_number=reply.ticket_number, to=str(reply.recipient.email),
            subject=reply.subject, body=reply.body, in_reply_to=reply.in_reply_to,
            references=list(reply.references), automatic=reply.automatic, files=files,
        )
        return compose(mail, from_address=self.settings.from_address, from_name=self.settings.from_name,
                       now=datetime.now(UTC))

    async def _report(self, reply: OutboundReply, status: DeliveryStatus, detail: str | None,
                      external_id: str | None = None, *, attempt: int | None = None) -> DeliveryReported:
        key = f"{reply.reply_id}:{status.value}"
        report = DeliveryReported(
            correlation_id=reply.correlation_id, channel=CHANNEL,
            # Each failed attempt is reported once; delivered and failed happen once per reply.
            idempotency_key=f"{key}:{attempt}" if attempt is not None else key,
            ticket_number=reply.ticket_number, reply_id=reply.reply_id, status=status, detail=detail,
            external_message_id=external_id, recipient_email=reply.recipient.email,
        )
        await self.bus.publish(report)
        log.info("reply reported", reply_id=str(reply.reply_id), status=status.value)
        return report


def register_outbound(bus: Bus, settings: IntakeEmailSettings, blobs: BlobStore, sent: SentReplies,
                      send: Send) -> ReplySender:
    sender = ReplySender(bus=bus, settings=settings, blobs=blobs, sent=sent, send=send)

    @bus.consumer("intake-email.outbound")
    async def on_outbound_reply(reply: OutboundReply, message: AbstractIncomingMessage) -> None:
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        await sender.handle(reply, attempt)

    bus.publisher(DeliveryReported)
    return sender
