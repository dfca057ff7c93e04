"""One raw mail (bytes) to one :class:`NormalisedMail`, bounded in time and memory, or :class:`BadMail`.

Hostile mail is refused before and during parsing (LIBRARY-NOTES §8: the stdlib parser recurses per nesting
level, is slow on 100k parts and on huge address headers): total size, header-section size, the number of
multipart containers, the nesting depth, the number of parts and a wall-clock budget are all checked, so one
message cannot stall a mailbox. :class:`BadMail` carries the reason the dead-letter queue shows.
"""

from __future__ import annotations

import email
import hashlib
import mimetypes
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime

from . import headers
from .charsets import decode_text
from .html_text import html_to_text
from .machine_written import MailKind, classify, undeliverable_addresses
from .quotes import strip_reply

MiB = 1024 * 1024
#: ``[#2026-000123]`` in a subject (or ``[2026-000123]``, as notices of earlier versions wrote it): the ticket a
#: reply belongs to. A bare number in the subject or text is found too (:func:`ticket_number_in`); tickets joins
#: the mail to that ticket only when it is the same client's.
TICKET_IN_SUBJECT = re.compile(r"\[#?(\d{4}-\d{6})\]")
_BARE_TICKET_NUMBER = re.compile(r"(?<![\w-])(20\d{2}-\d{6})(?![\w-])")
_BOUNDARY = re.compile(r"""boundary\s*=\s*"?([^";\s]+)""", re.IGNORECASE)


class BadMail(Exception):  # noqa: N818 - the domain's word: the mail is bad, not the code
    """The mail cannot be turned into a contact; ``reason`` says why (it goes to the dead-letter queue)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MailLimits:
    max_bytes: int = 25 * MiB
    max_header_bytes: int = 128 * 1024
    max_multiparts: int = 200
    max_depth: int = 20
    max_parts: int = 500
    max_attachments: int = 49  # the contact carries 50 references; one is the original message
    max_body_chars: int = 100_000
    time_budget_s: float = 5.0


@dataclass(frozen=True)
class MailFile:
    """An attachment or inline image, with its decoded bytes."""

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True)
class NormalisedMail:
    message_id: str | None
    idempotency_key: str
    sender_name: str
    sender_email: str
    subject: str
    sent_at: datetime | None
    text: str  # the new message: quoted history and signature stripped
    full_text: str  # everything the customer's client showed, quotes included
    files: list[MailFile]
    in_reply_to: str | None
    references: list[str]
    ticket_number: str | None
    kind: MailKind
    undeliverable: list[str] = field(default_factory=list)
    html_only: bool = False
    #: Every (name, address) of From, Sender, Reply-To and Return-Path: the fallbacks when From is unusable.
    senders: list[tuple[str, str]] = field(default_factory=list)
    #: Set when the mail could not be read whole (see :mod:`.unreadable`): why, for the agent.
    unread_reason: str | None = None


def header_section_length(raw: bytes) -> int:
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return min(ends) if ends else len(raw)


def precheck(raw: bytes, limits: MailLimits) -> None:
    """Refuse what would be expensive to parse, before parsing."""
    if len(raw) > limits.max_bytes:
        raise BadMail(f"message of {len(raw)} bytes exceeds the limit of {limits.max_bytes}")
    if header_section_length(raw) > limits.max_header_bytes:
        raise BadMail(f"header section exceeds {limits.max_header_bytes} bytes")
    multiparts = len(re.findall(rb"(?i)content-type:\s*multipart/", raw))
    if multiparts > limits.max_multiparts:
        raise BadMail(f"{multiparts} multipart containers exceed the limit of {limits.max_multiparts}")
    # Every part starts with a "--boundary" line; the parser is slow on many parts, so count them first.
    delimiters = raw.count(b"\n--")
    if delimiters > 2 * limits.max_parts:
        raise BadMail(f"{delimiters} boundary lines: more than {limits.max_parts} MIME parts")


class _Walker:
    """Collects the text and files of a parsed message, enforcing depth, part count and time."""

    def __init__(self, limits: MailLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.time_budget_s
        self.parts = 0
        self.plain: list[str] = []
        self.html: list[str] = []
        self.files: list[MailFile] = []
        self.enclosed: list[Message] = []

    def walk(self, part: Message, depth: int = 0) -> None:
        self.parts += 1
        if depth > self.limits.max_depth:
            raise BadMail(f"MIME nesting deeper than {self.limits.max_depth}")
        if self.parts > self.limits.max_parts:
            raise BadMail(f"more than {self.limits.max_parts} MIME parts")
        if time.monotonic() > self.deadline:
            raise BadMail(f"parsing took longer than {self.limits.time_budget_s} s")
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "text/rfc822-headers") or content_type == "message/global":
            self._enclosed(part, depth)
            return
        if content_type.startswith("multipart/") and not part.is_multipart():
            self._broken_multipart(part, depth)
            return
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                if content_type == "multipart/alternative":
                    payload = _preferred_alternative(payload)
                for sub in payload:
                    self.walk(sub, depth + 1)
            return
        self._leaf(part)

    def _broken_multipart(self, part: Message, depth: int) -> None:
        """A multipart whose boundary the parser could not read (``boundary=----=_Next…`` unquoted): find
        the boundary in the raw header and parse the body again; failing that, read the body as text."""
        payload = part.get_payload()
        body = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
        match = _BOUNDARY.search(headers.raw_header(part, "Content-Type") or "")
        if match and body:
            rebuilt = (f'Content-Type: {part.get_content_type()}; boundary="{match.group(1)}"\r\n\r\n'
                       .encode("utf-8", "surrogateescape") + body)
            fixed = email.message_from_bytes(rebuilt, policy=policy.default)
            if fixed.is_multipart():
                self.walk(fixed, depth + 1)
                return
        self.plain.append(decode_text(body, part.get_content_charset()))

    def _enclosed(self, part: Message, depth: int) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message):
            self.enclosed.append(inner)
            self._count(inner, depth + 1)
        data = _payload_bytes(part) if inner is None else _message_bytes(inner)
        subject = headers.header_text(inner, "Subject") if inner is not None else ""
        self._add_file(MailFile(_safe_filename(subject or "message", ".eml"), "message/rfc822", data))

    def _count(self, message: Message, depth: int) -> None:
        # Enclosed messages are kept whole as a file, but their parts still count against the limits.
        if depth > self.limits.max_depth:
            raise BadMail(f"MIME nesting deeper than {self.limits.max_depth}")
        for sub in message.get_payload() if message.is_multipart() else []:
            self.parts += 1
            if self.parts > self.limits.max_parts:
                raise BadMail(f"more than {self.limits.max_parts} MIME parts")
            if isinstance(sub, Message):
                self._count(sub, depth + 1)

    def _leaf(self, part: Message) -> None:
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        data = _payload_bytes(part)
        if content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            text = decode_text(data, part.get_content_charset(), html=content_type == "text/html")
            (self.plain if content_type == "text/plain" else self.html).append(text)
            return
        if content_type == "message/delivery-status":
            self.plain.append(decode_text(data, "utf-8"))
            return
        if not data and not filename:
            return
        content_id = headers.message_ids(headers.raw_header(part, "Content-ID"))
        extension = mimetypes.guess_extension(content_type) or ".bin"
        name = _safe_filename(filename or f"attachment-{len(self.files) + 1}", extension)
        self._add_file(MailFile(name, content_type, data, inline=disposition == "inline" or bool(content_id),
                                content_id=content_id[0] if content_id else None))

    def _add_file(self, file: MailFile) -> None:
        if len(self.files) >= self.limits.max_attachments:
            raise BadMail(f"more than {self.limits.max_attachments} attachments")
        self.files.append(file)


def _message_bytes(message: Message) -> bytes:
    # compat32 writes headers back as they came; the modern policy re-parses them and can raise.
    try:
        return message.as_bytes(policy=policy.compat32)
    except Exception:  # noqa: BLE001 - keep the body at least
        return _payload_bytes(message)


def _preferred_alternative(parts: list[Message]) -> list[Message]:
    """Of ``multipart/alternative``, the plain part when it has text, else everything (HTML is converted)."""
    for part in parts:
        if part.get_content_type() == "text/plain" and _payload_bytes(part).strip():
            return [part]
    return parts


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - an undecodable transfer encoding: keep the raw payload
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _raw_param(part: Message, header: str, name: str) -> str | tuple[str, str, str] | None:
    # The modern policy decodes RFC 2231 values itself, with replacement characters for charsets it does
    # not know; the compat32 reader hands back (charset, language, value) so decode_text can do better.
    raw = headers.raw_header(part, header)
    if not raw:
        return None
    # compat32 would also turn 8-bit bytes into replacement characters: hand it Latin-1, which is lossless.
    legacy = Message()
    legacy[header] = raw.encode("utf-8", "surrogateescape").decode("latin-1")
    return legacy.get_param(name, header=header)  # type: ignore[return-value]


def _filename(part: Message) -> str:
    try:
        name = (_raw_param(part, "Content-Disposition", "filename")
                or _raw_param(part, "Content-Type", "name") or "")
    except Exception:  # noqa: BLE001 - malformed RFC 2231 parameters: no name rather than no mail
        return ""
    if isinstance(name, tuple):  # RFC 2231: (charset, language, percent-decoded value)
        charset, _, value = name
        return decode_text(value.encode("latin-1", "replace"), charset)
    return headers.decode_value(str(name).encode("latin-1", "replace").decode("utf-8", "surrogateescape"))


def _safe_filename(name: str, extension: str) -> str:
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "_", name).strip(" ._") or "attachment"
    if "." not in name[-8:]:
        name += extension
    return name[-255:]


def _date(message: Message) -> datetime | None:
    raw = headers.raw_header(message, "Date")
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _content_digest(message: Message, sender_email: str, subject: str) -> str:
    """A hash of what the author wrote, independent of the route: transport headers (Received, Delivered-To,
    Return-Path) differ between IMAP and SMTP copies of one mail, so they are left out."""
    digest = hashlib.sha256()
    for value in (sender_email.lower(), (headers.raw_header(message, "Date") or "").strip(), subject):
        digest.update(value.encode("utf-8", "surrogateescape") + b"\0")
    for part in message.walk():
        if not part.is_multipart():
            # Line endings are the route's, not the author's (an IMAP server stores CRLF, an mbox LF), and
            # so are raw NUL bytes, which Dovecot hands out as 0x80 (IMAP literals may not carry NUL).
            payload = _payload_bytes(part).replace(b"\r\n", b"\n").replace(b"\x00", b"\x80")
            digest.update(payload.rstrip(b"\n") + b"\0")
    return digest.hexdigest()


def idempotency_key(message_id: str | None, content_digest: str) -> str:
    """Message-ID plus a content hash: the same mail twice is one key, a reused or empty Message-ID is not."""
    if not message_id:
        return f"email:sha256:{content_digest}"
    if len(message_id) > 400:
        message_id = "sha256:" + hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()
    return f"email:{message_id}#{content_digest[:16]}"


def ticket_number_in(subject: str, text: str) -> str | None:
    """The ticket a mail names: ``[#2026-000123]`` in the subject, else a bare ``2026-000123`` in the subject or
    in the first lines of the text (a customer quoting the number from our notice, as it asks them to)."""
    tagged = TICKET_IN_SUBJECT.search(subject)
    if tagged:
        return tagged.group(1)
    bare = _BARE_TICKET_NUMBER.search(subject) or _BARE_TICKET_NUMBER.search(text[:2000])
    return bare.group(1) if bare else None


def parse(raw: bytes, limits: MailLimits | None = None) -> NormalisedMail:
    """Normalise one mail. Raises :class:`BadMail` for mail that must go to the dead-letter queue."""
    limits = limits or MailLimits()
    precheck(raw, limits)
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
        walker = _Walker(limits)
        walker.walk(message)
    except BadMail:
        raise
    except RecursionError:
        raise BadMail("MIME structure too deeply nested to parse") from None
    except Exception as exc:  # noqa: BLE001 - see below
        raise BadMail(f"cannot parse: {type(exc).__name__}: {exc}"[:500]) from exc
    assert isinstance(message, EmailMessage)
    try:
        return _normalise(message, walker, limits)
    except BadMail:
        raise
    except Exception as exc:  # a parser bug on hostile input must not crash the service: dead-letter it
        raise BadMail(f"cannot parse: {type(exc).__name__}: {exc}"[:500]) from exc


def _normalise(message: EmailMessage, walker: _Walker, limits: MailLimits) -> NormalisedMail:
    senders = headers.senders(message)
    sender_name, sender_email = senders[0] if senders else ("", "")
    subject = headers.header_text(message, "Subject")
    plain = "\n\n".join(text.strip() for text in walker.plain if text.strip())
    html_only = not plain and any(text.strip() for text in walker.html)
    full_text = plain or "\n\n".join(html_to_text(text) for text in walker.html)
    full_text = full_text.replace("\r\n", "\n").replace("\x00", "")[: limits.max_body_chars]
    kind = classify(message, subject=subject, sender=f"{sender_name} {sender_email}")
    message_ids = headers.message_ids(headers.raw_header(message, "Message-ID"))
    message_id = message_ids[0] if message_ids else None
    in_reply_to = (headers.message_ids(headers.raw_header(message, "In-Reply-To")) or [None])[-1]
    references = headers.message_ids(headers.raw_header(message, "References"))[-50:]
    undeliverable: list[str] = []
    if kind is MailKind.BOUNCE:
        undeliverable = undeliverable_addresses(message, full_text)
        # A bounce concerns the message it returns: thread it through that message's own id.
        for enclosed in walker.enclosed:
            original = headers.message_ids(headers.raw_header(enclosed, "Message-ID"))
            if original:
                in_reply_to = in_reply_to or original[0]
                references = [*references, *headers.message_ids(headers.raw_header(enclosed, "References")),
                              original[0]][-50:]
                break
    ticket_number = ticket_number_in(subject, full_text)
    return NormalisedMail(
        message_id=message_id,
        idempotency_key=idempotency_key(message_id, _content_digest(message, sender_email, subject)),
        sender_name=sender_name,
        sender_email=sender_email,
        subject=subject,
        sent_at=_date(message),
        text=strip_reply(full_text) if kind is MailKind.PERSON else full_text,
        full_text=full_text,
        files=walker.files,
        in_reply_to=in_reply_to,
        references=references,
        ticket_number=ticket_number,
        kind=kind,
        undeliverable=undeliverable,
        html_only=html_only,
        senders=senders,
    )
