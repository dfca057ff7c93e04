"""A mail the parser refused (over a limit, broken beyond repair), still made into a mail an agent can read.

After the SMTP endpoint said 250, or an IMAP mailbox moved its checkpoint past a message, the sender believes
the mail arrived: refusing it then would lose it in silence. So what :func:`~.parsing.parse` refuses becomes a
:class:`~.parsing.NormalisedMail` from its headers alone, read within a fixed budget (the first
:data:`HEADER_BUDGET` bytes, however large the header section is), with a text that says why the mail could not
be read; the original goes with it as ``original.eml``, so nothing of it is lost and an agent can open it.
"""

from __future__ import annotations

import hashlib
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from . import headers
from .machine_written import MailKind, classify
from .parsing import NormalisedMail, idempotency_key, ticket_number_in

#: Bytes of the header section read at most: a 128 KB header section is one of the things refused.
HEADER_BUDGET = 64 * 1024


def _header_section(raw: bytes) -> bytes:
    head = raw[:HEADER_BUDGET]
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    if ends:
        return head[: min(ends)]
    line_end = head.rfind(b"\n")
    return head[:line_end] if line_end > 0 else head  # cut at a line end: no header is half read


def _headers_only(raw: bytes) -> Message:
    try:
        return BytesHeaderParser(policy=policy.compat32).parsebytes(_header_section(raw))
    except Exception:  # noqa: BLE001 - headers no parser can read: the mail is still kept, with none
        return Message()


def readable_text(reason: str, size: int) -> str:
    """What the agent reads in place of the text (and the reason it could not be read)."""
    return (f"Письмо не удалось разобрать автоматически: {reason}. Размер: {size} байт. "
            "Оригинал приложен к сообщению (original.eml): откройте его в почтовой программе.")


def salvage(raw: bytes, reason: str) -> NormalisedMail:
    """The mail as its headers describe it, with a text saying why it could not be read. Never raises."""
    message = _headers_only(raw)
    found = headers.senders(message)
    name, address = found[0] if found else ("", "")
    subject = headers.header_text(message, "Subject")
    message_ids = headers.message_ids(headers.raw_header(message, "Message-ID"))
    message_id = message_ids[0] if message_ids else None
    try:
        kind = classify(message, subject=subject, sender=f"{name} {address}")  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - odd headers: a person's mail, which is the safe reading
        kind = MailKind.PERSON
    text = readable_text(reason, len(raw))
    return NormalisedMail(
        message_id=message_id,
        # The raw bytes are all there is to tell two such mails apart: the same bytes are the same mail.
        idempotency_key=idempotency_key(message_id, hashlib.sha256(raw).hexdigest()),
        sender_name=name,
        sender_email=address,
        subject=subject,
        sent_at=None,
        text=text,
        full_text=text,
        files=[],
        in_reply_to=(headers.message_ids(headers.raw_header(message, "In-Reply-To")) or [None])[-1],
        references=headers.message_ids(headers.raw_header(message, "References"))[-50:],
        ticket_number=ticket_number_in(subject, ""),
        kind=kind,
        senders=found,
        unread_reason=reason[:500],
    )
