"""One raw mail to the bus, from whichever door it came in (SMTP or an IMAP mailbox).

:meth:`MailIntake.accept` returns only when the mail is safe: published as a ``contact.received.v1.email``
with the broker's confirm. Anything else raises, and the caller must not acknowledge the mail (SMTP answers
451, IMAP leaves its checkpoint where it was).

Every mail becomes a contact, because after a 250 (or an IMAP checkpoint) the sender believes it arrived:
- a mail the parser refuses (a MIME bomb, a 128 KB header section, too many attachments, a parser failure)
  is published from its headers, with a text saying why and the original attached (:mod:`.mail.unreadable`);
- the sender is the first usable address of ``From``, ``Sender``, ``Reply-To``, ``Return-Path`` and the SMTP
  envelope sender; with none, the contact goes without one and identity files it on its "unknown sender" card.
The dead-letter queue is left for what cannot even be published that way (see :meth:`MailIntake._last_resort`).

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
from priyom_kit.deadlines import bounded
from priyom_kit.logging import get_logger

from .mail.machine_written import MailKind
from .mail.parsing import BadMail, MailLimits, NormalisedMail, parse
from .mail.unreadable import salvage
from .memory import ByteBudget, OverBudget
from .sender_auth import NO_VERDICT, SenderAuthenticator
from .sender_checks import SmtpClient

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
                 list_mail: str = "attach", memory: ByteBudget | None = None,
                 authenticator: SenderAuthenticator | None = None) -> None:
        self.memory = memory or ByteBudget(limits.max_bytes * 4)
        self.publish = publish
        self.dead_letter = dead_letter
        self.blobs = blobs
        self.limits = limits
        self.list_mail = list_mail
        #: Judges each mail's sender (:mod:`.sender_auth`); None: contacts carry no verdict.
        self.authenticator = authenticator

    async def accept(self, raw: bytes, source: str, seen: AlreadyIngested | None = None, *,
                     envelope_sender: str | None = None, client: SmtpClient | None = None) -> Accepted:
        """Put one mail safely on the bus; with ``seen``, a mail it knows is not published again.

        ``envelope_sender`` is the SMTP ``MAIL FROM``, the last fallback for who wrote the mail; ``client`` what
        SMTP knew of the sending host, for SPF (its ``mail_from`` is then the envelope sender)."""
        if client is None and envelope_sender:
            client = SmtpClient(ip="", mail_from=envelope_sender)
        try:
            # Held until the publish: the parsed mail and its decoded files live that long, not just the parse.
            async with self.memory.reserve(len(raw)):
                return await self._accept(raw, source, seen, client)
        except OverBudget as over:
            return await self._unreadable(raw, str(over), source, seen, client)

    async def _accept(self, raw: bytes, source: str, seen: AlreadyIngested | None,
                      client: SmtpClient | None) -> Accepted:
        try:
            # In a thread with a deadline: parsing is CPU work and must not stall SMTP sessions or IDLE.
            mail = await bounded(asyncio.to_thread(parse, raw, self.limits),
                                 timeout=self.limits.time_budget_s * 2)
        except BadMail as bad:
            return await self._unreadable(raw, bad.reason, source, seen, client)
        except TimeoutError:
            return await self._unreadable(raw, f"parsing took longer than {self.limits.time_budget_s * 2} s",
                                          source, seen, client)
        return await self._publish(mail, raw, source, seen, client)

    async def refuse(self, raw: bytes, reason: str, source: str, seen: AlreadyIngested | None = None) -> Accepted:
        """A mail refused before parsing (an IMAP message over the size limit: ``raw`` is its header): still a
        contact, from its headers, saying why; the message itself stays in the mailbox."""
        return await self._unreadable(raw, reason, source, seen, None, original="original-headers.eml")

    async def _unreadable(self, raw: bytes, reason: str, source: str, seen: AlreadyIngested | None,
                          client: SmtpClient | None, *, original: str = "original.eml") -> Accepted:
        log.warning("mail not readable, published from its headers", source=source, reason=reason, size=len(raw))
        return await self._publish(salvage(raw, reason), raw, source, seen, client, original=original)

    async def _publish(self, mail: NormalisedMail, raw: bytes, source: str, seen: AlreadyIngested | None,
                       client: SmtpClient | None, *, original: str = "original.eml") -> Accepted:
        if seen is not None and await seen(mail.idempotency_key):
            return Accepted(Outcome.ALREADY_INGESTED, mail.idempotency_key, mail.message_id)
        try:
            event = await self.contact_event(mail, raw, client=client, original=original)
        except ValidationError as exc:
            return await self._last_resort(raw, f"not a valid contact: {exc.errors()[0]['msg']}", source)
        await self.publish(event)
        log.info("mail accepted", source=source, kind=mail.kind.value, key_hash=_short(mail.idempotency_key),
                 attachments=len(event.contact.attachments), unreadable=mail.unread_reason is not None)
        return Accepted(Outcome.PUBLISHED, mail.idempotency_key, mail.message_id, reason=mail.unread_reason)

    async def _last_resort(self, raw: bytes, reason: str, source: str) -> Accepted:
        """The contact itself would not validate (a bug here, not the customer's doing): keep the mail whole in
        the dead-letter queue, where an admin sees the reason, downloads the mail and sends it again to the SMTP
        endpoint after the fix (a raw mail is no bus message, so tickets' replay refuses it)."""
        await self.dead_letter(raw, reason, source)
        log.error("mail dead-lettered", source=source, reason=reason, size=len(raw))
        return Accepted(Outcome.DEAD_LETTERED, raw_key(raw), reason=reason)

    async def contact_event(self, mail: NormalisedMail, raw: bytes, *, client: SmtpClient | None = None,
                            original: str = "original.eml") -> ContactReceived:
        """The ContactReceived of one normalised mail, with its sender's verdict; its files (and the original)
        go to the blob store."""
        attachments = [await self._store(f.data, f.filename, f.content_type) for f in mail.files]
        attachments.append(await self._store(raw, original, "message/rfc822"))
        automated = _AUTOMATED.get(mail.kind)
        if mail.kind is MailKind.LIST and self.list_mail == "ticket":
            automated = None
        root = (mail.references[:1] or [mail.in_reply_to or mail.message_id])[0]
        # Derived from the key (as every channel does): a mail accepted twice, by IMAP and SMTP or fetched
        # again after a crash, is the same contact on the bus, not merely the same key.
        contact_id = contact_id_for(mail.idempotency_key)
        sender = _sender(mail, client.mail_from if client else None)
        verdict = NO_VERDICT
        if self.authenticator is not None and sender.email is not None:
            verdict = await self.authenticator.judge_in_time(raw, sender.email, client)
        contact = Contact(
            contact_id=contact_id,
            received_at=datetime.now(UTC),
            sender=sender,
            subject=mail.subject[:998] or None,
            body=mail.text[:100_000],
            attachments=attachments,
            thread=_thread_hint(root=root, mail=mail),
            automated=automated,
            undeliverable=[a for a in map(_valid_email, mail.undeliverable) if a],
            unread_reason=mail.unread_reason,
            sender_authenticated=verdict.authenticated,
            sender_auth=verdict.detail,
        )
        return ContactReceived(correlation_id=contact_id, channel=CHANNEL, idempotency_key=mail.idempotency_key,
                               contact=contact)

    async def _store(self, data: bytes, filename: str, content_type: str) -> AttachmentRef:
        key = await self.blobs.put(data)
        return AttachmentRef(blob_key=key, filename=filename[:255] or "attachment",
                             content_type=content_type[:255], size=len(data))


def _sender(mail: NormalisedMail, envelope_sender: str | None) -> Sender:
    """The first address a reply can go to: From, Sender, Reply-To, Return-Path, then the SMTP envelope sender
    (a bounce's empty ``<>`` names none). The name goes with its address, else the first name the mail gives."""
    candidates = [*mail.senders, ("", envelope_sender or "")]
    for name, address in candidates:
        valid = _valid_email(address) if address else None
        if valid is not None:
            return Sender(name=(name or mail.sender_name)[:500] or None, email=valid)
    return Sender(name=mail.sender_name[:500] or None)


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
