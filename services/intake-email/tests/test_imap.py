"""IMAP against a real Dovecot: every corpus mail read once, flagged or moved, the checkpoint moved only
after the confirm, IDLE, reconnects after a kicked session, and a changed UIDVALIDITY."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import aiosmtplib
from aioimaplib import IMAP4

from priyom_intake_email.app import create_app
from priyom_intake_email.imap.readers import PROCESSED_KEYWORD
from priyom_intake_email.mail.parsing import parse
from priyom_intake_email.settings import ImapMailbox, IntakeEmailSettings
from priyom_testing.apps import started
from priyom_testing.dovecot import Dovecot

from .conftest import BusReader, saved_checkpoint


@asynccontextmanager
async def imap(dovecot: Dovecot, user: str) -> AsyncIterator[IMAP4]:
    client = IMAP4("127.0.0.1", dovecot.port, timeout=30)
    await client.wait_hello_from_server()
    assert (await client.login(user, dovecot.password)).result == "OK"
    try:
        yield client
    finally:
        await client.logout()


async def append(dovecot: Dovecot, user: str, mails: Iterable[bytes], folder: str = "INBOX") -> None:
    async with imap(dovecot, user) as client:
        for raw in mails:
            assert (await client.append(raw, mailbox=folder)).result == "OK"


async def uids(dovecot: Dovecot, user: str, folder: str, criteria: str = "ALL") -> list[int]:
    async with imap(dovecot, user) as client:
        assert (await client.select(folder)).result == "OK"
        found = await client.uid_search(criteria)
        return [int(u) for u in bytes(found.lines[0]).split()]


def with_mailbox(settings: IntakeEmailSettings, dovecot: Dovecot, user: str, **extra: object) -> IntakeEmailSettings:
    box = ImapMailbox(**dovecot.mailbox_config(user, **extra))
    return settings.model_copy(update={"imap_mailboxes": [box], "smtp_enabled": False})


@asynccontextmanager
async def service(settings: IntakeEmailSettings) -> AsyncIterator[None]:
    app = create_app(settings)
    async with started(app):
        yield


def corpus_mails(corpus_dir: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted((corpus_dir / "email").rglob("*"))
            if p.is_file() and p.name != "SOURCE.md" and "zapier-email-reply-parser" not in p.parts]


async def test_every_corpus_mail_via_imap_once(settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str,
                                               bus_reader: BusReader, corpus_dir: Path) -> None:
    mails = corpus_mails(corpus_dir)
    await append(dovecot, mailbox_user, mails)
    config = with_mailbox(settings, dovecot, mailbox_user)
    async with service(config):
        events = await bus_reader.contacts(len(mails), timeout=60)
    assert len(events) == len(mails)
    assert {e.idempotency_key for e in events} == {parse(raw).idempotency_key for raw in mails}
    assert await uids(dovecot, mailbox_user, "INBOX", f"UNKEYWORD {PROCESSED_KEYWORD}") == []
    assert await uids(dovecot, mailbox_user, "INBOX", "UNSEEN") == []
    saved = await saved_checkpoint(config, mailbox_user)
    assert saved is not None and saved.last_uid == len(mails)
    async with service(config):  # a restart reads nothing again
        assert await bus_reader.contacts(1, timeout=2) == []
    assert await bus_reader.dead_letters(1, timeout=0.2) == []


async def test_idle_notices_new_mail_and_a_kicked_session_reconnects(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    # Polling would take a minute: only IDLE can bring new mail within the bound below.
    config = with_mailbox(settings, dovecot, mailbox_user).model_copy(update={"imap_poll_s": 60.0})
    first = b"From: a@example.org\r\nSubject: one\r\nMessage-ID: <idle-1@example.org>\r\n\r\nfirst\r\n"
    second = b"From: a@example.org\r\nSubject: two\r\nMessage-ID: <idle-2@example.org>\r\n\r\nsecond\r\n"
    async with service(config):
        await asyncio.sleep(1.0)  # connected and idling (poll interval would be far longer than IDLE's push)
        started = time.monotonic()
        await append(dovecot, mailbox_user, [first])
        [event] = await bus_reader.contacts(1, timeout=10)
        latency = time.monotonic() - started
        kick = await asyncio.create_subprocess_exec(
            "doveadm", "-c", str(dovecot.root / "dovecot.conf"), "kick", mailbox_user,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        assert await kick.wait() == 0
        await append(dovecot, mailbox_user, [second])
        [again] = await bus_reader.contacts(1, timeout=15)
    assert event.contact.body == "first" and again.contact.body == "second"
    assert latency < 5.0, f"IDLE push took {latency:.2f} s"


async def test_changed_uidvalidity_rereads_what_is_not_processed(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    mails = [f"From: a@example.org\r\nSubject: s{i}\r\nMessage-ID: <uv-{i}@example.org>\r\n\r\nbody {i}\r\n".encode()
             for i in range(4)]
    config = with_mailbox(settings, dovecot, mailbox_user, folder="Support")
    async with imap(dovecot, mailbox_user) as client:
        await client.create("Support")
    await append(dovecot, mailbox_user, mails[:2], "Support")
    async with service(config):
        assert len(await bus_reader.contacts(2)) == 2
    async with imap(dovecot, mailbox_user) as client:  # the folder is recreated: new UIDVALIDITY, UIDs from 1
        assert (await client.delete("Support")).result == "OK"
        await client.create("Support")
    await append(dovecot, mailbox_user, mails[2:], "Support")
    async with service(config):
        events = await bus_reader.contacts(2)
        assert await bus_reader.contacts(1, timeout=1) == []
    assert sorted(e.contact.body for e in events) == ["body 2", "body 3"]  # last_uid 2 would have skipped both


async def test_processed_mail_is_moved_when_configured(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    async with imap(dovecot, mailbox_user) as client:
        await client.create("Processed")
    mails = [f"From: a@example.org\r\nMessage-ID: <mv-{i}@x>\r\n\r\nm{i}\r\n".encode() for i in range(5)]
    await append(dovecot, mailbox_user, mails)
    async with service(with_mailbox(settings, dovecot, mailbox_user, processed_folder="Processed")):
        assert len(await bus_reader.contacts(5)) == 5
        for _ in range(50):
            if not await uids(dovecot, mailbox_user, "INBOX"):
                break
            await asyncio.sleep(0.1)
    assert await uids(dovecot, mailbox_user, "INBOX") == []
    assert len(await uids(dovecot, mailbox_user, "Processed")) == 5


async def test_one_mail_by_smtp_and_by_imap_is_one_contact(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    raw = (b"From: Anna <anna@example.org>\r\nTo: support@priyom.local\r\nSubject: both doors\r\n"
           b"Message-ID: <both@example.org>\r\n\r\nsame mail\r\n")
    config = with_mailbox(settings, dovecot, mailbox_user).model_copy(update={"smtp_enabled": True})
    async with service(config):
        await aiosmtplib.send(raw, sender="anna@example.org", recipients=["support@priyom.local"],
                              hostname="127.0.0.1", port=config.smtp_port, start_tls=False)
        await append(dovecot, mailbox_user, [b"Delivered-To: support@priyom.local\r\n" + raw])
        first, second = await bus_reader.contacts(2)
    # Two deliveries of one mail: one key and one contact id, so tickets records one message.
    assert first.idempotency_key == second.idempotency_key
    assert first.contact.contact_id == second.contact.contact_id
