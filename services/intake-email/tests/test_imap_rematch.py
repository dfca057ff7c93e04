"""A recreated mailbox (new UIDVALIDITY, flags gone) is matched against the mail already published instead of
being published again; a message over the size limit is never fetched whole; the per-mailbox figures on
/metrics say what happened. Against a real Dovecot and RabbitMQ."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from priyom_intake_email.app import create_app
from priyom_intake_email.imap.readers import PROCESSED_KEYWORD
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_testing.apps import started
from priyom_testing.dovecot import Dovecot

from .conftest import BusReader, original_of, saved_checkpoint
from .test_imap import append, imap, uids, with_mailbox


@asynccontextmanager
async def service_with_metrics(settings: IntakeEmailSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with started(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
            yield client


async def metric(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    text = (await client.get("/metrics")).text
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name:
            got = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
            if got == wanted:
                return float(match.group(3))
    return 0.0


def mail(i: int, body: str | None = None, message_id: bool = True) -> bytes:
    header = f"Message-ID: <rm-{i}@example.org>\r\n" if message_id else ""
    return (f"From: a@example.org\r\nSubject: s{i}\r\nDate: Wed, 25 Nov 2026 10:0{i}:00 +0300\r\n{header}\r\n"
            f"{body or f'body {i}'}\r\n").encode()


async def recreate(dovecot: Dovecot, user: str, folder: str) -> None:
    async with imap(dovecot, user) as client:
        assert (await client.delete(folder)).result == "OK"
        assert (await client.create(folder)).result == "OK"


async def test_a_recreated_mailbox_is_matched_not_published_again(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    first = [mail(0), mail(1), mail(2), mail(3, message_id=False)]
    config = with_mailbox(settings, dovecot, mailbox_user, folder="Support")
    async with imap(dovecot, mailbox_user) as client:
        await client.create("Support")
    await append(dovecot, mailbox_user, first, "Support")
    async with service_with_metrics(config):
        assert len(await bus_reader.contacts(4)) == 4

    # The mailbox is recreated (as a migration or a restore does): new UIDVALIDITY, UIDs from 1, flags gone.
    await recreate(dovecot, mailbox_user, "Support")
    reused_id = mail(0, body="a different mail that reuses the Message-ID")  # freescout#5591: not skipped
    await append(dovecot, mailbox_user, [*first, mail(4), reused_id], "Support")
    async with service_with_metrics(config) as client:
        events = await bus_reader.contacts(2)
        assert await bus_reader.contacts(1, timeout=1.5) == []
        box = {"mailbox": mailbox_user}
        assert await metric(client, "priyom_email_imap_messages_total", outcome="already-ingested", **box) == 4
        assert await metric(client, "priyom_email_imap_messages_total", outcome="published", **box) == 2
        assert await metric(client, "priyom_email_imap_checkpoint_uid", **box) == 6
        assert await metric(client, "priyom_email_imap_backlog", **box) == 0
        assert await metric(client, "priyom_email_imap_connected", **box) == 1
        assert await metric(client, "priyom_email_imap_last_drain_timestamp_seconds", **box) > 0
    assert sorted(e.contact.body for e in events) == ["a different mail that reuses the Message-ID", "body 4"]
    assert await uids(dovecot, mailbox_user, "Support", f"UNKEYWORD {PROCESSED_KEYWORD}") == []
    saved = await saved_checkpoint(config, mailbox_user)
    assert saved is not None and saved.last_uid == 6 and saved.rematch_until == 6


async def test_a_message_over_the_limit_is_not_fetched_whole(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    limit = settings.smtp_max_bytes
    big = (b"From: a@example.org\r\nSubject: huge scan\r\nMessage-ID: <huge@example.org>\r\n\r\n"
           + (b"x" * 76 + b"\r\n") * (limit // 78 + 100))
    await append(dovecot, mailbox_user, [mail(0), big, mail(2)])
    async with service_with_metrics(with_mailbox(settings, dovecot, mailbox_user)) as client:
        events = await bus_reader.contacts(3)
        box = {"mailbox": mailbox_user}
        assert await metric(client, "priyom_email_imap_messages_total", outcome="oversized", **box) == 1
        fetched = await metric(client, "priyom_email_imap_fetched_bytes_total", **box)
    [huge] = [e for e in events if e.contact.unread_reason]
    assert sorted(e.contact.body for e in events if e is not huge) == ["body 0", "body 2"]
    reason = huge.contact.unread_reason or ""
    assert f"exceeds the limit of {limit}" in reason and "stays in INBOX" in reason and "UID 2" in reason
    assert huge.contact.subject == "huge scan" and huge.contact.sender.email == "a@example.org"
    headers = await original_of(settings, huge, "original-headers.eml")
    assert headers.startswith(b"From: a@example.org") and b"Message-ID: <huge@example.org>" in headers
    assert len(headers) < 1000 and fetched < 2000  # the header only, never the megabyte
    assert await bus_reader.dead_letters(1, timeout=0.2) == []
    assert await uids(dovecot, mailbox_user, "INBOX") == [1, 2, 3]  # still there, flagged, never deleted
    assert await uids(dovecot, mailbox_user, "INBOX", f"UNKEYWORD {PROCESSED_KEYWORD}") == []


async def test_byte_bounded_batches_read_a_mailbox_of_large_mails(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    # 10 mails of ~300 KiB with a 1 MiB fetch budget: several round trips, every mail read once, in UID order.
    mails = [mail(i, body=f"{i} " + "y" * 300_000) for i in range(10)]
    await append(dovecot, mailbox_user, mails)
    config = with_mailbox(settings, dovecot, mailbox_user).model_copy(update={"imap_fetch_bytes": 1024 * 1024})
    async with service_with_metrics(config) as client:
        events = await bus_reader.contacts(10, timeout=30)
        await asyncio.sleep(0.2)
        fetched = await metric(client, "priyom_email_imap_fetched_bytes_total", mailbox=mailbox_user)
    assert sorted(int(e.contact.body.split()[0]) for e in events) == list(range(10))
    assert fetched >= sum(len(m) for m in mails)
