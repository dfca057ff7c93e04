"""What a channel adapter is: pure data in, pure data out. No broker, no HTTP server, no clock of its own.

A channel is one class implementing three things (Apprise's plugin shape, Home Assistant's layout):

* :meth:`ChannelAdapter.normalise` turns what the channel sent (a Bot API update, a webhook body) into
  :class:`Inbound` contacts. It is pure, so it is tested on recorded samples alone.
* :meth:`ChannelAdapter.fetch` downloads a file the channel only referenced (a Telegram ``file_id``).
* :meth:`ChannelAdapter.deliver` sends an :class:`~priyom_contracts.OutboundReply` and returns
  :class:`Delivered`, or raises :class:`DeliveryError` saying whether trying again can help.

Everything else (blob storage, the confirmed publish, the outbound consumer, the delivery report, retries,
health and metrics) is the kit's :class:`~priyom_kit.adapters.edge.ChannelEdge`, identical for every channel.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

from priyom_contracts import (
    AttachmentRef,
    Contact,
    ContactReceived,
    OutboundReply,
    Sender,
    ThreadHint,
    contact_id_for,
)


@dataclass(frozen=True)
class FileRef:
    """A file the channel holds and the adapter can :meth:`~ChannelAdapter.fetch`."""

    ref: str
    filename: str
    content_type: str = "application/octet-stream"
    size: int | None = None


@dataclass(frozen=True)
class Inbound:
    """One customer contact, normalised, before its files are fetched and stored.

    ``idempotency_key`` is the channel's own identity of what arrived (``tg:<bot>:<update_id>``); the contact
    id is derived from it, so a redelivered update becomes the same contact. ``group`` names parts that
    arrive separately but are one contact (a Telegram album): :func:`merge_parts` joins them.
    """

    idempotency_key: str
    received_at: datetime
    sender: Sender
    body: str = ""
    subject: str | None = None
    files: tuple[FileRef, ...] = ()
    thread: ThreadHint = field(default_factory=ThreadHint)
    group: str | None = None

    @property
    def contact_id(self) -> uuid.UUID:
        return contact_id_for(self.idempotency_key)

    def to_event(self, channel: str, attachments: Sequence[AttachmentRef] = ()) -> ContactReceived:
        """The bus event, once the files are stored as ``attachments``."""
        return ContactReceived(
            correlation_id=self.contact_id,
            channel=channel,
            idempotency_key=self.idempotency_key,
            contact=Contact(contact_id=self.contact_id, received_at=self.received_at, sender=self.sender,
                            subject=self.subject, body=self.body, attachments=list(attachments),
                            thread=self.thread),
        )

    def as_json(self) -> dict[str, Any]:
        """A stable JSON form, as recorded in an adapter's ``*.expected.json`` samples."""
        return {
            "idempotency_key": self.idempotency_key,
            "received_at": self.received_at.isoformat(),
            "sender": self.sender.model_dump(mode="json", exclude_none=True),
            "subject": self.subject,
            "body": self.body,
            "files": [vars(f) for f in self.files],
            "thread": self.thread.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
            "group": self.group,
        }


def merge_parts(parts: Sequence[Inbound]) -> Inbound:
    """Join the parts of one group (an album) into one contact: the first part's key and time, every
    part's text and files, in arrival order."""
    if not parts:
        raise ValueError("nothing to merge")
    first = parts[0]
    bodies = [p.body for p in parts if p.body]
    files = tuple(f for p in parts for f in p.files)
    return replace(first, body="\n\n".join(bodies), files=files)


@dataclass(frozen=True)
class Delivered:
    """The channel accepted a reply; ``external_message_id`` is its id for what was sent."""

    external_message_id: str | None = None


class DeliveryError(Exception):
    """The channel refused a reply.

    ``permanent``: trying again cannot help (the customer blocked the bot, the chat is gone); the ticket
    is told the reply failed. ``retry_after``: the channel asked us to wait (a flood limit) this many seconds.
    Otherwise the failure is transient and the bus retries it with backoff.
    """

    def __init__(self, detail: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.retry_after = retry_after


class FileUnavailable(Exception):
    """The channel no longer has a referenced file (expired, deleted). The contact is published without it,
    saying which file is missing, rather than held back for ever."""


class ChannelAdapter(ABC):
    """Base of every channel. Subclasses set ``channel`` and implement the three methods."""

    #: The channel name on the bus (``contact.received.v1.<channel>``): short, lower-case.
    channel: ClassVar[str]

    @abstractmethod
    def normalise(self, raw: Mapping[str, Any]) -> list[Inbound]:
        """What the channel sent, as contacts (none for what is not a contact: a join, a reaction)."""

    async def fetch(self, file: FileRef) -> bytes:
        """The bytes of a referenced file; :class:`FileUnavailable` when the channel no longer has it.

        Channels whose contacts carry no references need not override it."""
        raise NotImplementedError(f"{type(self).__name__} does not fetch files")

    @abstractmethod
    async def deliver(self, reply: OutboundReply) -> Delivered:
        """Send one reply to the customer; raise :class:`DeliveryError` when the channel refuses."""

    async def after_start(self) -> None:
        """Tell the channel we are listening, once the bus is up and a contact can be published (Telegram's
        ``setWebhook``: registered earlier, the first updates would only be refused and re-sent).

        Most channels need nothing here; the default does nothing."""
        return None
