"""After the SMTP endpoint answered 250 a mail is always a contact: the kinds of mail real mail-parser test
suites hold that used to be answered 250 and then dead-lettered, or refused with ``500 Line too long``."""

from __future__ import annotations

import aiosmtplib
import pytest
from fastapi import FastAPI

from priyom_intake_email.settings import IntakeEmailSettings

from .conftest import BusReader, original_of

MIXED = b'Content-Type: multipart/mixed; boundary="b"\r\n'


def many_parts(count: int) -> bytes:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart\r\n" for _ in range(count))
    return MIXED + b"\r\n" + parts + b"--b--\r\n"


def many_attachments(count: int) -> bytes:
    files = b"".join(b'--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="f%d.pdf"'
                     b"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" % i for i in range(count))
    return MIXED + b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee files\r\n" + files + b"--b--\r\n"


# (envelope sender, raw mail, the sender address the contact must carry, a word the agent must see, unreadable)
CASES = {
    "no From, the envelope sender known": (
        "ivan@example.ru", b"Subject: no from\r\nMessage-ID: <nf@x>\r\n\r\nhello\r\n", "ivan@example.ru",
        "hello", False),
    "From unusable, Reply-To usable": (
        "", b"From: undisclosed-recipients:;\r\nReply-To: Olga <olga@example.ru>\r\nSubject: r\r\n\r\nhi\r\n",
        "olga@example.ru", "hi", False),
    "From without a domain, Sender usable": (
        "", b"From: root@localhost\r\nSender: ops@example.com\r\nSubject: s\r\n\r\nping\r\n",
        "ops@example.com", "ping", False),
    "no address anywhere, null envelope sender": (
        "", b"Subject: anonymous\r\nMessage-ID: <anon@x>\r\n\r\nwho am I\r\n", None, "who am I", False),
    "more than 500 MIME parts": (
        "a@example.org", b"From: a@example.org\r\nSubject: parts\r\n" + many_parts(600), "a@example.org",
        "original.eml", True),
    "a 128 KB header section": (
        "", b"From: b@example.org\r\nSubject: long header\r\n"
        + b"".join(b"X-Trace-%d: %s\r\n" % (i, b"t" * 200) for i in range(700)) + b"\r\nbody\r\n",
        "b@example.org", "original.eml", True),
    "more than 49 attachments": (
        "", b"From: c@example.org\r\nSubject: files\r\n" + many_attachments(60), "c@example.org", "original.eml",
        True),
    "a 200 KB line": (
        "", b"From: d@example.org\r\nSubject: one line\r\n\r\n" + b"w" * 200_000 + b"\r\n", "d@example.org",
        "w" * 1000, False),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_mail_answered_250_is_a_contact(case: str, running: FastAPI, settings: IntakeEmailSettings,
                                             bus_reader: BusReader) -> None:
    envelope, raw, address, visible, unreadable = CASES[case]
    # "" is the null reverse-path, ``MAIL FROM:<>``, as bounces and some scanners send.
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=settings.smtp_port, start_tls=False,
                               timeout=30) as client:
        errors, answer = await client.sendmail(envelope, ["support@priyom.local"], raw)
    assert errors == {} and answer.startswith("2.0.0 OK")
    [event] = await bus_reader.contacts(1)
    contact = event.contact
    assert contact.sender.email == address
    assert visible in contact.body
    assert (contact.unread_reason is not None) is unreadable
    assert len(await original_of(settings, event)) >= len(raw) - 2  # the original always goes with it
    assert await bus_reader.dead_letters(1, timeout=0.2) == []
