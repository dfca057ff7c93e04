"""The SMTP endpoint, driven by a real client (aiosmtplib) against the real RabbitMQ: 250 only once the mail
is safe on the bus, 451 when the broker cannot confirm, 550 for other domains, 552 above the size limit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import aio_pika
import aiosmtplib
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from priyom_contracts import AutomatedKind, Topology
from priyom_intake_email.app import create_app
from priyom_intake_email.mail.parsing import parse
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_testing.apps import started

from .conftest import BusReader, original_of

MAIL = (b"From: Ivan Petrov <ivan@example.ru>\r\nTo: support@priyom.local\r\nSubject: =?koi8-r?B?896j1CDOxSDQ0snbo8w=?=\r\n"
        b"Message-ID: <smtp-1@example.ru>\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n"
        + "Добрый день, счёт не пришёл.".encode("koi8-r") + b"\r\n")


async def send(settings: IntakeEmailSettings, raw: bytes, to: str = "support@priyom.local",
               **kwargs: object) -> tuple[dict, str]:
    return await aiosmtplib.send(raw, sender="ivan@example.ru", recipients=[to], hostname="127.0.0.1",
                                 port=settings.smtp_port, start_tls=False, timeout=30, **kwargs)


async def test_mail_is_published_before_250(running: FastAPI, settings: IntakeEmailSettings,
                                            bus_reader: BusReader) -> None:
    errors, answer = await send(settings, MAIL)
    assert errors == {} and answer.startswith("2.0.0 OK")
    [event] = await bus_reader.contacts(1)
    assert event.channel == "email" and event.routing_key == "contact.received.v1.email"
    assert event.contact.subject == "Счёт не пришёл"
    assert event.contact.body == "Добрый день, счёт не пришёл."
    assert event.contact.sender.email == "ivan@example.ru" and event.contact.sender.name == "Ivan Petrov"
    assert event.contact.thread.message_id == "smtp-1@example.ru"
    assert event.idempotency_key == parse(MAIL).idempotency_key
    assert [a.filename for a in event.contact.attachments] == ["original.eml"]
    stored = settings.blob_dir / event.contact.attachments[0].blob_key[:2] / event.contact.attachments[0].blob_key[2:]
    assert stored.read_bytes().replace(b"\r\n", b"\n") == MAIL.replace(b"\r\n", b"\n")


async def test_foreign_domains_and_oversized_mail_are_refused(running: FastAPI, settings: IntakeEmailSettings,
                                                              bus_reader: BusReader) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await send(settings, MAIL, to="victim@elsewhere.example")
    assert refused.value.recipients[0].code == 550
    errors, _ = await send(settings, MAIL, to="Help@Partner.example")  # a configured single address
    assert errors == {}
    big = MAIL + b"x" * (settings.smtp_max_bytes + 10)
    with pytest.raises(aiosmtplib.SMTPResponseException) as too_big:
        await send(settings, big)
    assert too_big.value.code == 552
    assert len(await bus_reader.contacts(1)) == 1
    assert await bus_reader.contacts(1, timeout=0.5) == []  # only the accepted one


async def test_451_while_the_broker_cannot_confirm_then_250(running: FastAPI, settings: IntakeEmailSettings,
                                                            bus_reader: BusReader, amqp_url: str) -> None:
    topology = Topology(settings.bus_prefix)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.exchange_delete(topology.exchange)  # the broker can no longer take the contact
    with pytest.raises(aiosmtplib.SMTPResponseException) as later:
        await send(settings, MAIL)
    assert later.value.code == 451  # the sending server keeps the mail and retries
    assert await bus_reader.contacts(1, timeout=0.5) == []
    await running.state.parts.bus.declare()  # the broker is back
    errors, _ = await send(settings, MAIL)
    assert errors == {}
    [event] = await bus_reader.contacts(1)
    assert event.idempotency_key == parse(MAIL).idempotency_key


async def test_hostile_mail_is_a_contact_with_the_reason_and_the_original(
        running: FastAPI, settings: IntakeEmailSettings, bus_reader: BusReader) -> None:
    """Refused by the parser after the 250 could be given: never parsed, still a contact an agent sees, the
    sender taken from the SMTP envelope since the mail names none."""
    bomb = b"Subject: bomb\r\nMessage-ID: <bomb@x>\r\n" + b"".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode() for i in range(300))
    errors, answer = await send(settings, bomb)
    assert errors == {} and "queued" in answer
    [event] = await bus_reader.contacts(1)
    assert "multipart containers" in (event.contact.unread_reason or "")
    assert event.contact.subject == "bomb" and "original.eml" in event.contact.body
    assert event.contact.sender.email == "ivan@example.ru"  # the envelope sender
    assert (await original_of(settings, event)).startswith(b"Subject: bomb")
    assert await bus_reader.dead_letters(1, timeout=0.5) == []


async def test_auth_is_required_when_configured(settings: IntakeEmailSettings, bus_reader: BusReader) -> None:
    app = create_app(settings.model_copy(update={"smtp_auth": SecretStr("relay:s3cret:x-smtp-relay-test")}))
    async with started(app):
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await send(settings, MAIL)
        assert refused.value.code == 530
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await send(settings, MAIL, username="relay", password="wrong")
        errors, _ = await send(settings, MAIL, username="relay", password="s3cret:x-smtp-relay-test")
        assert errors == {}
    assert len(await bus_reader.contacts(1)) == 1
    assert await bus_reader.contacts(1, timeout=0.5) == []


async def test_every_corpus_mail_through_smtp_is_one_contact(running: FastAPI, settings: IntakeEmailSettings,
                                                            bus_reader: BusReader, corpus_dir: Path) -> None:
    files = sorted(p for p in (corpus_dir / "email").rglob("*") if p.is_file() and p.name != "SOURCE.md"
                   and "zapier-email-reply-parser" not in p.parts)
    expected = {}
    for path in files:
        raw = path.read_bytes()
        errors, _ = await send(settings, raw)
        assert errors == {}, path
        expected[parse(raw).idempotency_key] = parse(raw)
    events = await bus_reader.contacts(len(files), timeout=30)
    assert len(events) == len(files)  # none lost
    assert await bus_reader.contacts(1, timeout=0.5) == []  # none doubled
    assert await bus_reader.dead_letters(1, timeout=0.2) == []  # none dead-lettered
    assert {e.idempotency_key for e in events} == set(expected)
    kinds = {e.idempotency_key: e.contact.automated for e in events}
    assert sum(k is AutomatedKind.BOUNCE for k in kinds.values()) >= 40
    assert sum(k is AutomatedKind.AUTO_REPLY for k in kinds.values()) >= 5
    bounces = [e for e in events if e.contact.automated is AutomatedKind.BOUNCE and e.contact.undeliverable]
    assert len(bounces) >= 25


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=localhost", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


async def test_starttls_and_auth_only_over_tls(settings: IntakeEmailSettings, bus_reader: BusReader,
                                               certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    tls = settings.model_copy(update={"smtp_tls_cert": cert, "smtp_tls_key": key,
                                      "smtp_auth": SecretStr("forwarder:pa55-forwarder-test-login")})
    async with started(create_app(tls)):
        with pytest.raises(aiosmtplib.SMTPException):  # AUTH is not even offered before STARTTLS
            await send(tls, MAIL, username="forwarder", password="pa55-forwarder-test-login")
        errors, _ = await aiosmtplib.send(MAIL, sender="ivan@example.ru", recipients=["support@priyom.local"],
                                          hostname="127.0.0.1", port=tls.smtp_port, start_tls=True,
                                          validate_certs=False, username="forwarder", password="pa55-forwarder-test-login")
        assert errors == {}
    [event] = await bus_reader.contacts(1)
    assert event.contact.body == "Добрый день, счёт не пришёл."


LIST_MAIL = (b"From: Users list <users@lists.example.org>\r\nTo: support@priyom.local\r\nSubject: [users] weekly digest\r\n"
             b"List-Id: <users.lists.example.org>\r\nPrecedence: list\r\nMessage-ID: <digest-7@lists.example.org>\r\n"
             b"\r\nThis week on the list.\r\n")
OUT_OF_OFFICE = (b"From: Ivan <ivan@example.ru>\r\nTo: support@priyom.local\r\nSubject: Out of Office: [#2026-000123] Invoice\r\n"
                 b"Auto-Submitted: auto-replied\r\nIn-Reply-To: <reply.1@priyom.local>\r\nMessage-ID: <oof-1@example.ru>\r\n"
                 b"\r\nI am away until Monday.\r\n")


@pytest.mark.parametrize(("list_mail", "expected"), [("attach", AutomatedKind.LIST), ("ticket", None)])
async def test_mailing_lists_are_configurable(settings: IntakeEmailSettings, bus_reader: BusReader,
                                              list_mail: str, expected: AutomatedKind | None) -> None:
    async with started(create_app(settings.model_copy(update={"list_mail": list_mail}))):
        await send(settings, LIST_MAIL)
        await send(settings, OUT_OF_OFFICE)
        listed, away = await bus_reader.contacts(2)
    assert listed.contact.automated is expected
    # An auto-reply is never a person, whatever the list setting: it joins its ticket and opens none.
    assert away.contact.automated is AutomatedKind.AUTO_REPLY
    assert away.contact.thread.ticket_number == "2026-000123"
    assert away.contact.thread.in_reply_to == "reply.1@priyom.local"
