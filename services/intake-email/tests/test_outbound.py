"""Replies from tickets go out through a real SMTP relay (an aiosmtpd sink here) and come back as reports."""

from __future__ import annotations

import asyncio
import email
import uuid
from collections.abc import Iterator
from email import policy

import pytest
from fastapi import FastAPI

from priyom_contracts import DeliveryReported, DeliveryStatus, OutboundReply, Recipient
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_testing.smtp_sink import MailSink as Sink
from priyom_testing.smtp_sink import running_sink

from .conftest import BusReader


@pytest.fixture
def sink(settings: IntakeEmailSettings, request: pytest.FixtureRequest) -> Iterator[Sink]:
    with running_sink(settings.relay_port, getattr(request, "param", None)) as handler:
        yield handler


def reply(**overrides: object) -> OutboundReply:
    reply_id = uuid.uuid4()
    values: dict[str, object] = {
        "correlation_id": uuid.uuid4(), "channel": "email", "idempotency_key": str(reply_id),
        "ticket_number": "2026-000123", "reply_id": reply_id,
        "recipient": Recipient(email="ivan@example.ru"), "subject": "Re: Счёт не пришёл",
        "body": "Добрый день! Счёт отправлен повторно.", "in_reply_to": "smtp-1@example.ru",
        "references": ["root@example.ru"],
    }
    return OutboundReply(**(values | overrides))


async def reports(bus_reader: BusReader, count: int, timeout: float = 15) -> list[DeliveryReported]:
    return [DeliveryReported.model_validate_json(body)
            for body in await bus_reader.published("tickets.deliveries", count, timeout)]


async def test_a_reply_is_sent_once_with_threading_headers(running: FastAPI, sink: Sink,
                                                           bus_reader: BusReader) -> None:
    outbound = reply(automatic=True)
    await running.state.parts.bus.publish(outbound)
    [report] = await reports(bus_reader, 1)
    assert report.status is DeliveryStatus.DELIVERED and report.ticket_number == "2026-000123"
    assert report.external_message_id == f"reply.{outbound.reply_id}@priyom.local"
    [raw] = sink.messages
    sent = email.message_from_bytes(raw, policy=policy.default)
    assert sent["Subject"] == "[#2026-000123] Re: Счёт не пришёл"
    assert sent["To"] == "ivan@example.ru" and sent["From"].addresses[0].addr_spec == "support@priyom.local"
    assert sent["Message-ID"] == f"<{report.external_message_id}>"
    assert sent["In-Reply-To"] == "<smtp-1@example.ru>"
    assert sent["References"] == "<root@example.ru> <smtp-1@example.ru>"
    assert sent["Auto-Submitted"] == "auto-replied"  # an automatic notice
    assert sent.get_content().strip() == "Добрый день! Счёт отправлен повторно."

    await running.state.parts.bus.publish(outbound)  # redelivered: reported again, not mailed again
    [again] = await reports(bus_reader, 1)
    assert again.status is DeliveryStatus.DELIVERED
    await asyncio.sleep(0.2)
    assert len(sink.messages) == 1


async def test_an_agents_reply_is_not_marked_automatic(running: FastAPI, sink: Sink, bus_reader: BusReader) -> None:
    await running.state.parts.bus.publish(reply(subject="[#2026-000123] Счёт"))
    [report] = await reports(bus_reader, 1)
    assert report.status is DeliveryStatus.DELIVERED
    sent = email.message_from_bytes(sink.messages[0], policy=policy.default)
    assert sent["Subject"] == "[#2026-000123] Счёт"  # the tag is not doubled
    assert sent["Auto-Submitted"] is None


async def test_relay_down_is_retried_then_reported_failed(running: FastAPI, bus_reader: BusReader) -> None:
    # Nothing listens on the relay port: every attempt fails; PRIYOM_MAX_ATTEMPTS is 3 in these tests.
    await running.state.parts.bus.publish(reply())
    got = await reports(bus_reader, 3, timeout=20)
    assert [r.status for r in got] == [DeliveryStatus.RETRYING, DeliveryStatus.RETRYING, DeliveryStatus.FAILED]
    assert "gave up after 3 attempts" in (got[-1].detail or "")


@pytest.mark.parametrize("sink", ["550 5.1.1 No such user"], indirect=True)
async def test_a_refused_recipient_fails_at_once(running: FastAPI, sink: Sink, bus_reader: BusReader) -> None:
    await running.state.parts.bus.publish(reply())
    [report] = await reports(bus_reader, 1)
    assert report.status is DeliveryStatus.FAILED and "550" in (report.detail or "")
    assert await bus_reader.published("tickets.deliveries", 1, timeout=0.5) == []
    assert sink.messages == []
