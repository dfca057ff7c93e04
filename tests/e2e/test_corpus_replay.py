"""Every real mail of ``../shared/corpus/email``, through the SMTP endpoint and through an IMAP mailbox
(Dovecot), ends on a ticket: a customer's message, or a machine's (auto-reply, bounce, report, list mail) kept
with its classification, on the ticket it answers or the day's machine-mail ticket. Asserted per file, with
no dead letter. Each path runs on a fresh stack, so neither can pass on the other's tickets."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from aioimaplib import IMAP4

from priyom_contracts import contact_id_for
from priyom_intake_email.mail.machine_written import MailKind
from priyom_intake_email.mail.parsing import parse
from priyom_kit.pytest_plugin import delete_prefixed
from priyom_testing.dovecot import Dovecot, dovecot_or_skip
from priyom_testing.stack import Stack, stack_env

pytestmark = pytest.mark.e2e

#: What tickets shows for each kind of mail (``ticket_messages.automated``).
SHOWN_AS = {MailKind.PERSON: None, MailKind.AUTO_REPLY: "auto_reply", MailKind.BOUNCE: "bounce",
            MailKind.REPORT: "report", MailKind.LIST: "list"}


def corpus_files(corpus_dir: Path) -> list[Path]:
    # zapier-email-reply-parser holds bodies without headers: reply-stripping cases, not mail.
    return sorted(p for p in (corpus_dir / "email").rglob("*") if p.is_file() and p.name != "SOURCE.md"
                  and "zapier-email-reply-parser" not in p.parts)


@pytest.fixture(scope="module")
def imap_server() -> Iterator[Dovecot]:
    with dovecot_or_skip() as server:
        yield server


@pytest.fixture(params=["smtp", "imap"])
def replay(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path,
           imap_server: Dovecot) -> Iterator[tuple[str, Stack, list[Path]]]:
    """A fresh SQLite stack fed the whole corpus through one door; yields (door, stack, files)."""
    door, files = request.param, corpus_files(corpus_dir)
    workdir = tmp_path_factory.mktemp(f"replay-{door}")
    prefix = f"replay{uuid.uuid4().hex[:8]}."
    env = stack_env(os.environ, workdir=workdir, prefix=prefix)
    if door == "imap":
        user = f"replay{uuid.uuid4().hex[:8]}"
        asyncio.run(append(imap_server, user, [p.read_bytes() for p in files]))
        env["INTAKE_EMAIL_IMAP_MAILBOXES"] = json.dumps([imap_server.mailbox_config(user)])
        env["INTAKE_EMAIL_IMAP_POLL_S"] = "0.5"
    stack = Stack(env=env, workdir=workdir)
    try:
        stack.migrate()
        stack.start()
        if door == "smtp":
            asyncio.run(send_all(stack, files))
        yield door, stack, files
    finally:
        stack.stop()
        asyncio.run(delete_prefixed(env.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), prefix))


async def append(server: Dovecot, user: str, mails: list[bytes]) -> None:
    client = IMAP4(host="127.0.0.1", port=server.port, timeout=30)
    await client.wait_hello_from_server()
    assert (await client.login(user, server.password)).result == "OK"
    try:
        for raw in mails:
            assert (await client.append(raw, mailbox="INBOX")).result == "OK"
    finally:
        await client.logout()


async def send_all(stack: Stack, files: list[Path]) -> None:
    """As a sending MTA would: one session per mail, each answered 250 before the next."""
    for path in files:
        errors, answer = await aiosmtplib.send(
            path.read_bytes(), sender="mta@relay.example", recipients=["support@priyom.local"],
            hostname="127.0.0.1", port=int(stack.env["INTAKE_EMAIL_SMTP_PORT"]), start_tls=False, timeout=60)
        assert errors == {} and answer.startswith("2.0.0"), (path, answer)


async def ticket_of(client: httpx.AsyncClient, stack: Stack, contact_id: uuid.UUID) -> str | None:
    response = await client.get(f"{stack.url('tickets')}/api/v1/contacts/{contact_id}/ticket", headers=stack.admin_headers)
    return response.json()["number"] if response.status_code == 200 else None


# Hundreds of real mails through SMTP or IMAP and every service: minutes on a loaded two-core machine.
@pytest.mark.timeout(480)
async def test_every_corpus_mail_ends_on_a_ticket(replay: tuple[str, Stack, list[Path]]) -> None:
    door, stack, files = replay
    expected = {path: parse(path.read_bytes()) for path in files}
    found: dict[Path, str | None] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        deadline = asyncio.get_running_loop().time() + 180
        while True:
            for path, mail in expected.items():
                if found.get(path) is None:
                    found[path] = await ticket_of(client, stack, contact_id_for(mail.idempotency_key))
            missing = [str(p) for p, number in found.items() if number is None]
            if not missing or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(1)
        assert missing == [], f"{door}: {len(missing)} of {len(files)} mails on no ticket"
        threads = {number: (await client.get(f"{stack.url('tickets')}/api/v1/tickets/{number}",
                                             headers=stack.admin_headers)).json()["messages"]
                   for number in set(found.values())}
    for path, mail in expected.items():
        on_ticket = {m["contact_id"]: m for m in threads[found[path]] if m.get("contact_id")}
        message = on_ticket.get(str(contact_id_for(mail.idempotency_key)))
        assert message is not None, path
        assert message["automated"] == SHOWN_AS[mail.kind], path
    # Tickets drains the broker's dead-letter queue into its table: read them there.
    assert await asyncio.to_thread(stack.dead_letters) == [], f"{door}: dead letters"
    kinds = {kind: sum(m.kind is kind for m in expected.values()) for kind in MailKind}
    print(f"\n{door}: {len(files)} files, {len(set(found.values()))} tickets, "
          f"{ {k.value: n for k, n in kinds.items()} }, 0 dead letters")
