"""Two replicas of intake-email on one mailbox (issue 18): only the holder of the mailbox's lease logs in and
reads; the other stands by (ready, /health says so, never logged in); when the reader stops, the standby
reads on within 15 s and each mail is still one contact."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from priyom_intake_email.app import create_app
from priyom_intake_email.mail.parsing import parse
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_testing.apps import started
from priyom_testing.dovecot import Dovecot

from .conftest import BusReader
from .test_imap import append, with_mailbox


def mail(i: int) -> bytes:
    return (f"From: Customer {i} <c{i}@example.org>\r\nTo: support@priyom.local\r\nSubject: Replica {i}\r\n"
            f"Message-ID: <replica-{i}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Письмо {i}.\r\n").encode()


async def test_one_replica_reads_a_mailbox_and_the_other_takes_over(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    config = with_mailbox(settings, dovecot, mailbox_user)
    job = f"intake-email/imap/{mailbox_user}"
    first, second = create_app(config), create_app(config)  # one database: one lease per mailbox

    async def state(client: httpx.AsyncClient) -> tuple[str, bool]:
        health = await client.get("/health")
        assert health.status_code == 200, health.text
        metrics = (await client.get("/metrics")).text
        return health.json()["jobs"][job], f'priyom_email_imap_connected{{mailbox="{mailbox_user}"}} 1.0' in metrics

    await append(dovecot, mailbox_user, [mail(1), mail(2)])
    async with contextlib.AsyncExitStack() as first_stack:
        await first_stack.enter_async_context(started(first))
        one = await first_stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://one.test"))
        async with started(second), httpx.AsyncClient(transport=httpx.ASGITransport(app=second),
                                                      base_url="http://two.test") as two:
            events = await bus_reader.contacts(2)
            await asyncio.sleep(1.0)
            assert await state(one) == ("leader", True)
            assert await state(two) == ("standby", False)

            await first_stack.aclose()  # the reader stops between batches and releases the lease
            loop = asyncio.get_running_loop()
            stopped_at = loop.time()
            await append(dovecot, mailbox_user, [mail(3)])
            events += await bus_reader.contacts(1, timeout=15)
            print(f"standby read the mailbox {loop.time() - stopped_at:.2f} s after the reader stopped")
            assert loop.time() - stopped_at < 15
            assert await state(two) == ("leader", True)
            assert await bus_reader.contacts(1, timeout=2) == []  # nothing read twice
    assert sorted(e.idempotency_key for e in events) == sorted(parse(mail(i)).idempotency_key for i in (1, 2, 3))
