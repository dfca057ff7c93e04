"""Kill the service (SIGKILL, as a crash) in the middle of a 1,000-message mailbox and start it again: every
message ends up published, and a message published twice (its confirm came, its checkpoint did not) carries
the same idempotency key and contact id, so it is one ticket message."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import aio_pika

from priyom_contracts import ContactReceived, Topology
from priyom_intake_email.mail.parsing import parse
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_testing.dovecot import Dovecot
from priyom_testing.ports import free_port

from .conftest import saved_checkpoint
from .test_imap import imap, uids

COUNT = 1000
BATCH = 50


def mailbox_messages() -> list[bytes]:
    return [(f"From: Customer {i} <c{i}@example.org>\r\nTo: support@priyom.local\r\nSubject: Заявка {i}\r\n"
             f"Message-ID: <restart-{i}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
             f"Сообщение номер {i}.\r\n").encode() for i in range(COUNT)]


def start_service(settings: IntakeEmailSettings, dovecot: Dovecot, user: str, workdir: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        AMQP_URL=settings.amqp_url.get_secret_value(), PRIYOM_BUS_PREFIX=settings.bus_prefix,
        PRIYOM_BLOB_DIR=str(settings.blob_dir), INTAKE_EMAIL_DATABASE_URL=settings.database_url.get_secret_value(),
        INTAKE_EMAIL_PORT=str(free_port()), INTAKE_EMAIL_SMTP_ENABLED="false",
        INTAKE_EMAIL_IMAP_BATCH=str(BATCH), LOG_LEVEL="WARNING",
        INTAKE_EMAIL_IMAP_MAILBOXES=json.dumps([dovecot.mailbox_config(user)]),
    )
    log = open(workdir / "service.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "priyom_intake_email", "serve"], env=env, cwd=workdir,
                            stdout=log, stderr=subprocess.STDOUT)


async def consume(connection: aio_pika.abc.AbstractRobustConnection, name: str,
                  callback: Callable[[aio_pika.abc.AbstractIncomingMessage], Awaitable[None]]) -> None:
    """Consume ``name`` once the service has declared it (when it starts), through a broker that may close
    the connection while the quorum queue is busy; once consuming, the robust connection restores it."""
    for _ in range(600):
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=500)
            queue = await channel.get_queue(name)
            await queue.consume(callback)
            return
        except aio_pika.exceptions.ChannelClosed:  # not declared yet
            await asyncio.sleep(0.05)
        except aio_pika.exceptions.AMQPConnectionError:
            await asyncio.wait_for(connection.connected.wait(), 60)
    raise AssertionError(f"{name} was never declared")


async def test_kill_in_the_middle_of_1000_messages_and_restart(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, amqp_url: str, tmp_path: Path) -> None:
    mails = mailbox_messages()
    async with imap(dovecot, mailbox_user) as client:
        for raw in mails:
            assert (await client.append(raw, mailbox="INBOX")).result == "OK"
    expected = {parse(raw).idempotency_key for raw in mails}
    received: list[ContactReceived] = []
    # Robust, as the services' own: a broker under load may close a connection (INTERNAL_ERROR "timed out
    # consuming from quorum queue"), and the tap must come back with its consumer like theirs do.
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        process = start_service(settings, dovecot, mailbox_user, tmp_path)
        try:
            kill_point, all_seen, seen = asyncio.Event(), asyncio.Event(), set()

            async def collect(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                received.append(ContactReceived.model_validate_json(message.body))
                seen.add(received[-1].idempotency_key)
                await message.ack()
                if len(received) >= COUNT * 3 // 10:
                    kill_point.set()
                if seen == expected:
                    all_seen.set()

            await consume(connection, Topology(settings.bus_prefix).queue("identity.contacts").name, collect)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(kill_point.wait(), 60)
            process.send_signal(signal.SIGKILL)  # a crash: no shutdown, unconfirmed work is lost
            process.wait(10)
            at_kill = len(received)
            saved = await saved_checkpoint(settings, mailbox_user)
            assert at_kill < COUNT and (saved is None or saved.last_uid < COUNT), "the kill must land mid-mailbox"

            process = start_service(settings, dovecot, mailbox_user, tmp_path)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_seen.wait(), 90)
            await asyncio.sleep(1.0)  # anything still arriving would be a duplicate: let it show
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)

    keys = Counter(e.idempotency_key for e in received)
    assert set(keys) == expected, (tmp_path / "service.log").read_text(errors="replace")[-3000:]
    # A message seen twice is the same contact (one ticket message); only the batch in flight can repeat.
    for event in received:
        assert event.contact.contact_id == next(e.contact.contact_id for e in received
                                                if e.idempotency_key == event.idempotency_key)
    repeated = sum(n - 1 for n in keys.values())
    assert repeated <= BATCH, f"{repeated} re-published after the kill at {at_kill}"
    final = await saved_checkpoint(settings, mailbox_user)
    assert final is not None and final.last_uid == COUNT
    assert await uids(dovecot, mailbox_user, "INBOX", "UNKEYWORD $PriyomDone") == []
    print(f"killed after {at_kill} contacts at checkpoint {saved.last_uid if saved else 0}; {repeated} twice")
