"""The JSON webhook channel: signed JSON in, signed JSON out (HMAC-SHA256 of the body, ``X-Priyom-Signature``).

Inbound (``POST /webhook/messages``)::

    {"message_id": "m-1", "sent_at": "2026-11-25T10:00:00Z", "conversation_id": "c-7", "in_reply_to": null,
     "sender": {"id": "u-42", "name": "…", "username": "…", "phone": "…", "email": "…"},
     "subject": null, "text": "…",
     "attachments": [{"filename": "a.pdf", "content_type": "application/pdf", "content_base64": "…"}]}

``message_id`` is the idempotency key (``webhook:<message_id>``): a re-sent message is the same contact.
Outbound: each reply is POSTed to ``INTAKE_MESSENGER_WEBHOOK_OUTBOUND_URL`` as
``{"reply_id", "ticket_number", "recipient": {"id", "conversation_id"}, "subject", "text", "in_reply_to",
"attachments"}``; a 2xx answer ``{"message_id": …}`` is delivered, 403/404/410 a refusal, 429 a flood limit
(``Retry-After``), anything else transient.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC
from typing import Annotated, Any

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from priyom_contracts import MessengerId, OutboundReply, Sender, ThreadHint
from priyom_kit import HttpClient
from priyom_kit.adapters import ChannelAdapter, Delivered, DeliveryError, FileRef, Inbound
from priyom_kit.blobs import BlobStore

CHANNEL = "webhook"
SIGNATURE_HEADER = "X-Priyom-Signature"
Text = Annotated[str, StringConstraints(max_length=100_000)]
Short = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WebhookSender(_Model):
    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    name: Short | None = None
    username: Short | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    email: Short | None = None


class WebhookAttachment(_Model):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(max_length=255)] = "application/octet-stream"
    content_base64: str


class WebhookMessage(_Model):
    message_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    sent_at: AwareDatetime
    sender: WebhookSender
    conversation_id: Short | None = None
    in_reply_to: Short | None = None
    subject: Short | None = None
    text: Text = ""
    attachments: list[WebhookAttachment] = Field(default_factory=list, max_length=20)


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value of a body: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(sign(secret, body).encode(), header.encode())


class JsonWebhookAdapter(ChannelAdapter):
    """``peer`` is the service's client for the webhook peer (``app.py`` opens and closes it)."""

    channel = CHANNEL

    def __init__(self, secret: bytes, outbound_url: str | None, blobs: BlobStore, peer: HttpClient) -> None:
        self.secret = secret
        self.outbound_url = outbound_url
        self.blobs = blobs
        self.peer = peer

    def normalise(self, raw: Mapping[str, Any]) -> list[Inbound]:
        message = WebhookMessage.model_validate(raw)
        sender = message.sender
        files = tuple(FileRef(a.content_base64, a.filename, a.content_type, _decoded_size(a.content_base64))
                      for a in message.attachments)
        return [Inbound(
            idempotency_key=f"{CHANNEL}:{message.message_id}",
            received_at=message.sent_at.astimezone(UTC),
            sender=Sender(name=sender.name, phone=sender.phone, email=sender.email,
                          messenger=MessengerId(channel=CHANNEL, user_id=sender.id, username=sender.username)),
            subject=message.subject,
            body=message.text,
            files=files,
            thread=ThreadHint(external_thread_id=message.conversation_id, in_reply_to=message.in_reply_to),
        )]

    async def fetch(self, file: FileRef) -> bytes:
        return base64.b64decode(file.ref, validate=True)

    async def deliver(self, reply: OutboundReply) -> Delivered:
        if not self.outbound_url:
            raise DeliveryError("INTAKE_MESSENGER_WEBHOOK_OUTBOUND_URL is not set", permanent=True)
        recipient = reply.recipient
        if recipient.messenger is None and recipient.external_thread_id is None:
            raise DeliveryError("the recipient has no webhook id or conversation", permanent=True)
        attachments = [{"filename": a.filename, "content_type": a.content_type,
                        "content_base64": base64.b64encode(await self.blobs.get(a.blob_key)).decode()}
                       for a in reply.attachments]
        body = json.dumps({
            "reply_id": str(reply.reply_id), "ticket_number": str(reply.ticket_number),
            "recipient": {"id": recipient.messenger.user_id if recipient.messenger else None,
                          "conversation_id": recipient.external_thread_id},
            "subject": reply.subject, "text": reply.body, "in_reply_to": reply.in_reply_to,
            "attachments": attachments,
        }, ensure_ascii=False).encode()
        try:
            response = await self.peer.post(self.outbound_url, content=body, headers={
                "Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body),
                "Idempotency-Key": str(reply.reply_id)})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook peer unreachable: {type(exc).__name__}") from exc
        return _outcome(response)


def _outcome(response: httpx.Response) -> Delivered:
    status = response.status_code
    if 200 <= status < 300:
        try:
            message_id = response.json().get("message_id")
        except (ValueError, AttributeError):
            message_id = None
        return Delivered(str(message_id) if message_id is not None else None)
    detail = f"webhook peer answered {status}"
    if status == 429:
        retry_after = response.headers.get("Retry-After", "1")
        raise DeliveryError(detail, retry_after=float(retry_after) if retry_after.isdigit() else 1.0)
    if status in (400, 403, 404, 410, 422):
        raise DeliveryError(detail, permanent=True)
    raise DeliveryError(detail)


def _decoded_size(data: str) -> int | None:
    try:
        return len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        return None
