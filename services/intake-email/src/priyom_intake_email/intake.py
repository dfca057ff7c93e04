"""One raw mail to the bus, from whichever door it came in (SMTP or an IMAP mailbox).

:meth:`MailIntake.accept` returns only when the mail is safe: published as a ``contact.received.v1.email``
with the broker's confirm, or, when it can never become a contact (a MIME bomb, a parser failure), published
to the dead-letter queue with the reason, also confirmed. Anything else raises, and the caller must not
acknowledge the mail (SMTP answers 451, IMAP leaves its checkpoint where it was).

Auto-replies, bounces, reports and (by configuration) list mail are published as contacts with
``Contact.automated`` set: tickets attaches them to the ticket their thread hint names and never opens a
ticket for them nor answers them. Nothing is dropped here, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError

from priyom_contracts import (
    AttachmentRef,
    AutomatedKind,
    Contact,
    ContactReceived,
    Sender,
    ThreadHint,
    contact_id_for,
)
from priyom_kit import Publish
from priyom_kit.blobs import BlobStore
from priyom_kit.logging import get_logger

from .mail.machine_written import MailKind
from .mail.parsing import BadMail, MailLimits, NormalisedMail, parse
from .memory import ByteBudget, OverBudget

log = get_logger("priyom.intake-email")

CHANNEL = "email"
_EMAIL = TypeAdapter(EmailStr)
_AUTOMATED = {MailKind.AUTO_REPLY: AutomatedKind.AUTO_REPLY, MailKind.BOUNCE: AutomatedKind.BOUNCE,
              MailKind.REPORT: AutomatedKind.REPORT, MailKind.LIST: AutomatedKind.LIST}

#: ``(raw, reason, source)``: the bus's :meth:`~priyom_kit.bus.Bus.dead_letter` with the routing key bound (app.py).
DeadLetter = Callable[[bytes, str, str], Awaitable[None]]


class Outcome(StrEnum):
    PUBLISHED = "published"
    DEAD_LETTERED = "dead-lettered"
    ALREADY_INGESTED = "already-ingested"


@dataclass(frozen=True)
class Accepted:
    """What became of one mail. ``key`` identifies it for re-matching: the idempotency key, or for mail that
    could not be parsed ``raw:sha256:<digest of its bytes>``."""

    outcome: Outcome
    key: str
    message_id: str | None = None
    reason: str | None = None


#: Asked before publishing mail that may have been published already (a mailbox whose UIDVALIDITY changed).
AlreadyIngested = Callable[[str], Awaitable[bool]]


def raw_key(raw: bytes) -> str:
    return "raw:sha256:" + hashlib.sha256(raw).hexdigest()


def _valid_email(value: str) -> str | None:
    try:
        return str(_EMAIL.validate_python(value))
    except ValidationError:
        return None


class MailIntake:
    """Normalise, store attachments, publish confirmed; or dead-letter with the reason."""

    def __init__(self, *, publish: Publish, dead_letter: DeadLetter, blobs: BlobStore, limits: MailLimits,
                 list_mail: str = "attach", memory: ByteBudget | None = None) -> None:
        self.memory = memory or ByteBudget(limits.max_bytes * 4)
        self.publish = publish
        self.dead_letter = dead_letter
        self.blobs = blobs
        self.limits = limits
        self.list_mail = list_mail

    async def accept(self, raw: bytes, source: str, seen: AlreadyIngested | None = None) -> Accepted:
        """Put one mail safely on the bus; with ``seen``, a mail it knows is not published again."""
        try:
            # Held until the publish: the parsed mail and its decoded files live that long, not just the parse.
            async with self.memory.reserve(len(raw)):
                return await self._accept(raw, source, seen)
        except OverBudget as over:
            return await self._reject(raw, str(over), source, seen)

    async def _accept(self, raw: bytes, source: str, seen: AlreadyIngested | None) -> Accepted:
        try:
            # In a thread with a deadline: parsing is CPU work and must not stall SMTP sessions or IDLE.
            mail = await asyncio.wait_for(asyncio.to_thread(parse, raw, self.limits),
                                          timeout=self.limits.time_budget_s * 2)
        except BadMail as bad:
            return await self._reject(raw, bad.reason, source, seen)
        except TimeoutError:
            return await self._reject(raw, f"parsing took longer than {self.limits.time_budget_s * 2} s", source,
                                      seen)
        if seen is not None and await seen(mail.idempotency_key):
            return Accepted(Outcome.ALREADY_INGESTED, mail.idempotency_key, mail.message_id)
        try:
            event = await self.contact_event(mail, raw)
        except ValidationError as exc:
            return await self._reject(raw, f"not a valid contact: {exc.errors()[0]['msg']}", source, seen)
        await self.publish(event)
        log.info("mail accepted", source=source, kind=mail.kind.value, key_hash=_short(mail.idempotency_key),
                 attachments=len(event.contact.attachments))
        return Accepted(Outcome.PUBLISHED, mail.idempotency_key, mail.message_id)

    async def refuse(self, raw: bytes, reason: str, source: str, seen: AlreadyIngested | None = None) -> Accepted:
        """Dead-letter a mail refused before parsing (an IMAP message over the size limit: ``raw`` is its header)."""
        return await self._reject(raw, reason, source, seen)

    async def _reject(self, raw: bytes, reason: str, source: str, seen: AlreadyIngested | None) -> Accepted:
        key = raw_key(raw)
        if seen is not None and await seen(key):
            return Accepted(Outcome.ALREADY_INGESTED, key, reason=reason)
        await self.dead_letter(raw, reason, source)
        log.warning("mail dead-lettered", source=source, reason=reason, size=len(raw))
        return Accepted(Outcome.DEAD_LETTERED, key, reason=reason)

    async def contact_event(self, mail: NormalisedMail, raw: bytes) -> ContactReceived:
        """The ContactReceived of one normalised mail; its files (and the original) go to the blob store."""
        attachments = [await self._store(f.data, f.filename, f.content_type) for f in mail.files]
        attachments.append(await self._store(raw, "original.eml", "message/rfc822"))
        automated = _AUTOMATED.get(mail.kind)
        if mail.kind is MailKind.LIST and self.list_mail == "ticket":
            automated = None
        root = (mail.references[:1] or [mail.in_reply_to or mail.message_id])[0]
        # Derived from the key (as every channel does): a mail accepted twice, by IMAP and SMTP or fetched
        # again after a crash, is the same contact on the bus, not merely the same key.
        contact_id = contact_id_for(mail.idempotency_key)
        contact = Contact(
            contact_id=contact_id,
            received_at=datetime.now(UTC),
            sender=Sender(name=mail.sender_name[:500] or None, email=_valid_email(mail.sender_email)),
            subject=mail.subject[:998] or None,
            body=mail.text[:100_000],
            attachments=attachments,
            thread=_thread_hint(root=root, mail=mail),
            automated=automated,
            undeliverable=[a for a in map(_valid_email, mail.undeliverable) if a],
        )
        return ContactReceived(correlation_id=contact_id, channel=CHANNEL, idempotency_key=mail.idempotency_key,
                               contact=contact)

    async def _store(self, data: bytes, filename: str, content_type: str) -> AttachmentRef:
        key = await self.blobs.put(data)
        return AttachmentRef(blob_key=key, filename=filename[:255] or "attachment",
                             content_type=content_type[:255], size=len(data))


def _thread_hint(*, root: str | None, mail: NormalisedMail) -> ThreadHint:
    hint: dict[str, Any] = {
        "external_thread_id": root[:512] if root else None,
        "in_reply_to": mail.in_reply_to,
        "references": mail.references,
        "ticket_number": mail.ticket_number,
        "message_id": mail.message_id,
    }
    return ThreadHint(**hint)


def _short(key: str) -> str:
    """A log-safe stand-in for an idempotency key (a Message-ID can carry an address)."""
    return contact_id_for(key).hex[:12]
