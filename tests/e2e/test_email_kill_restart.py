"""intake-email killed (SIGKILL) in the middle of a 1,000-message IMAP mailbox and started again, with the real
identity, router and tickets behind it: every message ends in exactly one ticket. Then its database is put
back to an empty one and the mailbox's flags removed (a restore from an old backup): all 1,000 are read and
published again, and still not one ticket more.

The intake-level test (services/intake-email/tests/test_imap_restart.py) shows a message published twice
keeps its idempotency key and contact id; this one shows what that buys downstream: tickets opens one ticket
per message, never two. Its own small stack (four services, SQLite) and a throwaway Dovecot, not the shared
seven-service one, so it runs once and in about a minute.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest
from aioimaplib import IMAP4

from priyom_contracts import Topology
from priyom_kit.pytest_plugin import delete_prefixed
from priyom_testing.dovecot import Dovecot, dovecot_or_skip
from priyom_testing.stack import Stack, stack_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

COUNT = 1000


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with dovecot_or_skip() as server:
        yield server


def mailbox_messages(tag: str) -> list[bytes]:
    return [(f"From: Клиент {i} <kill.{tag}.{i}@example.org>\r\nTo: support@priyom.local\r\n"
             f"Subject: Заявка {i}\r\nMessage-ID: <kill-{tag}-{i}@example.org>\r\n"
             f"Content-Type: text/plain; charset=utf-8\r\n\r\nСообщение номер {i}: не пришёл счёт.\r\n").encode()
            for i in range(COUNT)]


async def fill_mailbox(dovecot: Dovecot, user: str, mails: list[bytes]) -> None:
    client = IMAP4("127.0.0.1", dovecot.port, timeout=30)
    await client.wait_hello_from_server()
    assert (await client.login(user, dovecot.password)).result == "OK"
    for raw in mails:
        assert (await client.append(raw, mailbox="INBOX")).result == "OK"
    await client.logout()


def restore(database: Path, backup: bytes) -> None:
    """Put an SQLite database back to ``backup``; its WAL goes too, or it would bring the newer state back."""
    for journal in database.parent.glob(database.name + "-*"):
        journal.unlink()
    database.write_bytes(backup)


async def unflag_all(dovecot: Dovecot, user: str) -> None:
    client = IMAP4("127.0.0.1", dovecot.port, timeout=30)
    await client.wait_hello_from_server()
    assert (await client.login(user, dovecot.password)).result == "OK"
    assert (await client.select("INBOX")).result == "OK"
    assert (await client.uid("store", "1:*", "-FLAGS.SILENT", r"(\Seen $PriyomDone)")).result == "OK"
    await client.logout()


async def wait_quiet(count, quiet_s: float, timeout: float) -> None:  # type: ignore[no-untyped-def]
    """Until ``count()`` has not moved for ``quiet_s``: the duplicates have gone through every consumer."""
    loop = asyncio.get_running_loop()
    deadline, last, since = loop.time() + timeout, count(), loop.time()
    while loop.time() - since < quiet_s and loop.time() < deadline:
        await asyncio.sleep(0.2)
        if count() != last:
            last, since = count(), loop.time()


async def wait_until(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition() and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)  # the counts grow in a consumer callback: polled, with a deadline


async def test_intake_email_killed_mid_mailbox_makes_one_ticket_per_message(
        dovecot: Dovecot, amqp_url: str, tmp_path: Path) -> None:
    tag, user = uuid.uuid4().hex[:6], f"kill{uuid.uuid4().hex[:6]}"
    prefix = f"e2e{uuid.uuid4().hex[:8]}."
    env = stack_env(os.environ, workdir=tmp_path, prefix=prefix)
    env.update(LOG_LEVEL="WARNING", INTAKE_EMAIL_SMTP_ENABLED="false", INTAKE_EMAIL_IMAP_BATCH="50",
               INTAKE_EMAIL_IMAP_MAILBOXES=json.dumps([dovecot.mailbox_config(user)]))
    stack = Stack(env=env, workdir=tmp_path)
    await fill_mailbox(dovecot, user, mailbox_messages(tag))
    received: Counter[str] = Counter()  # contact_id -> contact.received seen
    # contact_id -> the ticket numbers announced for it. tickets announces a duplicate's ticket again (so an
    # announcement lost after the commit is made good): the same number twice is one ticket, two numbers are two.
    tickets: defaultdict[str, set[str]] = defaultdict(set)
    traffic = [0]  # every message the tap saw
    connection = await aio_pika.connect(amqp_url)
    try:
        await asyncio.to_thread(stack.migrate)
        intake_db = tmp_path / "intake-email.db"
        empty_db = intake_db.read_bytes()
        await asyncio.to_thread(stack.start, ["tickets", "identity", "router"])
        channel = await connection.channel()
        exchange = await channel.get_exchange(Topology(prefix).exchange)
        tap = await channel.declare_queue(exclusive=True, auto_delete=True)
        await tap.bind(exchange, routing_key="contact.received.v1.email")
        await tap.bind(exchange, routing_key="ticket.created.v1.email")
        for between in ("contact.identified.v1.email", "contact.routed.v1.email"):
            await tap.bind(exchange, routing_key=between)  # only to see when the bus has gone quiet

        async def seen(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            body = json.loads(message.body)
            traffic[0] += 1
            if (message.routing_key or "").startswith(("contact.identified.", "contact.routed.")):
                return
            if (message.routing_key or "").startswith("ticket.created."):
                tickets[body["contact_id"]].add(body["number"])
            else:
                received[body["contact"]["contact_id"]] += 1

        await tap.consume(seen, no_ack=True)
        await asyncio.to_thread(stack.start, ["intake-email"])
        await wait_until(lambda: sum(received.values()) >= COUNT * 3 // 10, 120)
        stack.kill("intake-email")  # SIGKILL: no shutdown, unconfirmed work and the checkpoint write are lost
        at_kill = sum(received.values())
        assert at_kill < COUNT, "the kill must land in the middle of the mailbox"
        await asyncio.to_thread(stack.start, ["intake-email"])
        await wait_until(lambda: len(tickets) >= COUNT, 300)
        await asyncio.sleep(3)  # a second ticket for any message would show by now
        first_pass = sum(received.values())

        stack.kill("intake-email")
        await asyncio.to_thread(restore, intake_db, empty_db)
        await unflag_all(dovecot, user)
        await asyncio.to_thread(stack.start, ["intake-email"])
        await wait_until(lambda: sum(received.values()) >= first_pass + COUNT, 120)
        await wait_quiet(lambda: traffic[0], 5.0, 90)
    finally:
        await connection.close()
        stack.stop()
        await delete_prefixed(amqp_url, prefix)

    assert len(received) == COUNT, f"{len(received)} contacts published; killed after {at_kill}"
    assert sum(received.values()) >= first_pass + COUNT  # the restore really published every mail again
    assert set(tickets) == set(received), stack.log("tickets")[-2000:]
    assert all(len(numbers) == 1 for numbers in tickets.values())  # one ticket per message
    assert len(set().union(*tickets.values())) == COUNT  # and each message its own ticket
    print(f"killed after {at_kill} contacts; {first_pass - COUNT} published twice, then {COUNT} again after the "
          "restore; 0 tickets twice")
