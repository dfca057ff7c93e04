"""Mail to the relay goes over kept connections (priyom_intake_email/relay.py), against a real aiosmtpd relay:
a stream of messages opens one connection, not one a message; a connection the relay closed while it waited, or
one a send failed on, is replaced, and the next message still goes out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from email.message import EmailMessage

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from priyom_intake_email.relay import RelayConnections
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_testing.smtp_sink import MailSink


def mail(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "support@priyom.local", "ivan@example.ru", f"Заявка {n}"
    message.set_content(f"Сообщение {n}")
    return message


@pytest.fixture
def relay_idle_s() -> float:
    return 300.0


@pytest.fixture
def sink(settings: IntakeEmailSettings, relay_idle_s: float) -> Iterator[MailSink]:
    """The relay, closing connections idle for ``relay_idle_s`` as Postfix does after 300 s."""
    handler = MailSink(port=settings.relay_port)
    controller = Controller(handler, hostname="127.0.0.1", port=settings.relay_port,
                            server_kwargs={"timeout": relay_idle_s})
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


async def test_a_stream_of_messages_goes_over_one_connection(settings: IntakeEmailSettings, sink: MailSink) -> None:
    relay = RelayConnections(settings)
    try:
        for n in range(20):
            await relay.send(mail(n))
        assert relay.opened == 1
        await asyncio.gather(*(relay.send(mail(100 + n)) for n in range(6)))  # at once: more connections
        opened = relay.opened
        assert 1 < opened <= 6
        for n in range(10):
            await relay.send(mail(200 + n))
        assert relay.opened == opened, "the connections opened for the burst are kept for what follows"
    finally:
        await relay.close()
    assert len(sink.messages) == 36
    assert {m["Subject"] for m in sink.parsed()} == {f"Заявка {n}" for n in [*range(20), *range(100, 106),
                                                                           *range(200, 210)]}


@pytest.mark.parametrize("relay_idle_s", [0.5])
async def test_a_connection_the_relay_closed_while_idle_is_replaced(settings: IntakeEmailSettings,
                                                                   sink: MailSink) -> None:
    relay = RelayConnections(settings, check_after_s=60)  # no NOOP: the closed connection must be seen as closed
    try:
        await relay.send(mail(1))
        await asyncio.sleep(1.5)  # the relay times the connection out ("421 timeout") and closes it
        await relay.send(mail(2))
        assert relay.opened == 2
    finally:
        await relay.close()
    assert [m["Subject"] for m in sink.parsed()] == ["Заявка 1", "Заявка 2"]


async def test_a_lost_connection_is_replaced_and_a_live_one_is_asked_noop_and_kept(settings: IntakeEmailSettings,
                                                                  sink: MailSink) -> None:
    relay = RelayConnections(settings, check_after_s=0)  # every kept connection is asked before use
    try:
        await relay.send(mail(1))
        [(kept, _)] = relay._idle
        kept.protocol.transport.abort()  # gone without a word from the relay
        await relay.send(mail(2))
        await relay.send(mail(3))  # the second connection, idle past check_after_s: NOOP answered, kept
        assert relay.opened == 2
    finally:
        await relay.close()
    assert len(sink.messages) == 3


async def test_a_connection_a_send_failed_on_is_not_reused(settings: IntakeEmailSettings, sink: MailSink) -> None:
    relay = RelayConnections(settings)
    try:
        await relay.send(mail(1))
        sink.refuse = "550 5.1.1 mailbox unavailable"
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await relay.send(mail(2))
        sink.refuse = None
        await relay.send(mail(3))
        assert relay.opened == 2
    finally:
        await relay.close()
    assert [m["Subject"] for m in sink.parsed()] == ["Заявка 1", "Заявка 3"]


class FewPerConnection(MailSink):
    """A relay that takes only three messages a connection and answers 421 to the fourth's MAIL FROM, as
    Exchange does past its MaxMessagesPerConnection."""

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: ANN001, ANN201, N802
        session.mails = getattr(session, "mails", 0) + 1
        if session.mails > 3:
            return "421 4.3.0 too many messages in this connection"
        envelope.mail_from = address
        return "250 OK"


async def test_a_relay_that_ends_connections_after_a_few_messages_loses_none(settings: IntakeEmailSettings) -> None:
    handler = FewPerConnection(port=settings.relay_port)
    controller = Controller(handler, hostname="127.0.0.1", port=settings.relay_port)
    controller.start()
    relay = RelayConnections(settings)
    try:
        for n in range(10):
            await relay.send(mail(n))  # never raises: the fourth of a connection goes again on a new one
        assert relay.opened == 4
    finally:
        await relay.close()
        controller.stop()
    assert [m["Subject"] for m in handler.parsed()] == [f"Заявка {n}" for n in range(10)]
