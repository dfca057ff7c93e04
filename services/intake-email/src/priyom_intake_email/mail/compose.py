"""A reply or notice as an email: ticket number in the subject, threading headers, loop protection.

Pure: it builds an :class:`~email.message.EmailMessage` from plain values and sends nothing. The Message-ID
is derived from the reply id, so a reply sent again after a crash is recognisably the same message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

#: Any number tag a subject already carries (ours, ``[#…]``, or ``[…]`` as earlier versions wrote it), with the
#: ``Re:`` and ``Fwd:`` prefixes a customer's reply puts in front of it.
_TICKET_TAG = re.compile(r"\[#?\d{4}-\d{6,9}\]")


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class OutgoingMail:
    reply_id: str
    ticket_number: str
    to: str
    subject: str | None
    body: str
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    automatic: bool = False
    files: list[OutgoingFile] = field(default_factory=list)


def subject_with_ticket(subject: str | None, ticket_number: str) -> str:
    """``[#2026-000123] subject``: the tag once, in front, whatever tags the subject already carried."""
    tag = f"[#{ticket_number}]"
    subject = re.sub(r"\s{2,}", " ", _TICKET_TAG.sub("", (subject or "").strip())).strip()
    return f"{tag} {subject}" if subject else tag


def message_id_for(reply_id: str, from_address: str) -> str:
    domain = from_address.rpartition("@")[2] or "priyom.local"
    return f"reply.{reply_id}@{domain}"


def compose(mail: OutgoingMail, *, from_address: str, from_name: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    local, _, domain = from_address.partition("@")
    message["From"] = Address(display_name=from_name, username=local, domain=domain)
    message["To"] = mail.to
    message["Subject"] = subject_with_ticket(mail.subject, mail.ticket_number)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{message_id_for(mail.reply_id, from_address)}>"
    references = [*mail.references]
    if mail.in_reply_to:
        message["In-Reply-To"] = f"<{mail.in_reply_to.strip('<>')}>"
        if mail.in_reply_to not in references:
            references.append(mail.in_reply_to)
    if references:
        message["References"] = " ".join(f"<{ref.strip('<>')}>" for ref in references[-20:])
    if mail.automatic:
        # RFC 3834: an automatic notice says so, and asks Exchange not to auto-answer it (loop protection).
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
        message["Precedence"] = "bulk"
    message.set_content(mail.body)
    for file in mail.files:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(file.data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                               filename=file.filename)
    return message
