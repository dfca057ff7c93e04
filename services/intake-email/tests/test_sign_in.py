"""The portal's sign-in codes and tickets' notices to staff go out through the same relay as the replies (an
aiosmtpd sink here): an automatic mail to the verified address, nothing reported back, and a code that expired
while it waited is not sent."""

from __future__ import annotations

import asyncio
import email
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email import policy

import pytest
from fastapi import FastAPI

from priyom_contracts import Recipient, SignInCode, StaffNotice, utcnow
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_testing.smtp_sink import MailSink, running_sink


@pytest.fixture
def sink(settings: IntakeEmailSettings) -> Iterator[MailSink]:
    with running_sink(settings.relay_port) as handler:
        yield handler


def code(body: str, expires_in: timedelta) -> SignInCode:
    attempt = uuid.uuid4()
    return SignInCode(correlation_id=attempt, channel="email", idempotency_key=f"signin:{attempt}",
                      recipient=Recipient(email="olga@example.ru"), subject="Код для входа в личный кабинет",
                      body=body, expires_at=utcnow() + expires_in)


async def test_a_sign_in_code_is_mailed_and_an_expired_one_dropped(
        running: FastAPI, sink: MailSink, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    await running.state.parts.bus.publish(code("Ваш код для входа: 000111", timedelta(seconds=-1)))
    await running.state.parts.bus.publish(code("Ваш код для входа: 482913", timedelta(minutes=10)))
    sent = await asyncio.to_thread(sink.wait_for, lambda m: "482913" in m.get_content(), 15)
    assert sent["To"] == "olga@example.ru" and sent["Subject"] == "Код для входа в личный кабинет"
    assert sent["Auto-Submitted"] == "auto-generated"
    await asyncio.sleep(0.3)
    assert len(sink.messages) == 1, "the expired code was not sent"
    assert email.message_from_bytes(sink.messages[0], policy=policy.default)["From"] is not None
    printed = capsys.readouterr()
    # What the service wrote (the relay here is the test's sink, whose own log names the recipient).
    ours = [str(r.__dict__) for r in caplog.records if r.name.startswith("priyom")]
    logged = "\n".join([*ours, *(line for line in (printed.out + printed.err).splitlines() if "mail.log" not in line)])
    assert "sign-in code sent" in logged and "sign-in code not sent" in logged  # the log was read
    assert "482913" not in logged and "olga@example.ru" not in logged, "neither the code nor the address is logged"


async def test_a_staff_notice_is_mailed_without_logging_the_address(
        running: FastAPI, sink: MailSink, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Tickets' mail to a member of staff (an escalation that reached them) goes out the same way."""
    notice = uuid.uuid4()
    await running.state.parts.bus.publish(StaffNotice(
        correlation_id=notice, channel="email", idempotency_key=f"notice:{notice}", email="head@example.ru",
        subject="Обращение 2026-000123 эскалировано вам", body="Иванова эскалировала обращение 2026-000123.",
        ticket_number="2026-000123"))
    sent = await asyncio.to_thread(sink.wait_for, lambda m: "2026-000123" in m["Subject"], 15)
    assert sent["To"] == "head@example.ru" and sent["Auto-Submitted"] == "auto-generated"
    assert "Иванова эскалировала" in sent.get_content()
    await asyncio.sleep(0.2)
    printed = capsys.readouterr()
    ours = [str(r.__dict__) for r in caplog.records if r.name.startswith("priyom")]
    logged = "\n".join([*ours, *(line for line in (printed.out + printed.err).splitlines() if "mail.log" not in line)])
    assert "staff notice sent" in logged and "head@example.ru" not in logged
