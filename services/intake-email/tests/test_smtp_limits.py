"""The SMTP endpoint's bounds, against the real endpoint and RabbitMQ: sessions beyond
``INTAKE_EMAIL_SMTP_MAX_SESSIONS`` get a 421 greeting and are closed, a session that ends lets the next one in,
and DATA beyond the size limit gets 552 (also a line without a line break) and publishes nothing."""

from __future__ import annotations

import asyncio
import tracemalloc

import aiosmtplib
import pytest

from priyom_intake_email.app import create_app
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_testing.apps import started

from .conftest import BusReader
from .test_smtp import MAIL, send


async def greeting(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return reader, writer, await asyncio.wait_for(reader.readline(), 10)


async def dialogue(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Up to DATA's 354, without declaring a size."""
    for command in (b"HELO client.example", b"MAIL FROM:<ivan@example.ru>", b"RCPT TO:<support@priyom.local>",
                    b"DATA"):
        writer.write(command + b"\r\n")
        await writer.drain()
        assert (await asyncio.wait_for(reader.readline(), 10))[:1] in (b"2", b"3")


async def test_sessions_beyond_the_bound_get_421_and_a_freed_one_lets_the_next_in(
        settings: IntakeEmailSettings, bus_reader: BusReader) -> None:
    bounded = settings.model_copy(update={"smtp_max_sessions": 2})
    async with started(create_app(bounded)):
        first, second = aiosmtplib.SMTP(hostname="127.0.0.1", port=bounded.smtp_port, start_tls=False), \
            aiosmtplib.SMTP(hostname="127.0.0.1", port=bounded.smtp_port, start_tls=False)
        await first.connect()
        await second.connect()
        reader, writer, greeted = await greeting(bounded.smtp_port)
        assert greeted == b"421 4.3.2 Too many connections, try later\r\n"
        assert await asyncio.wait_for(reader.read(), 10) == b""  # and closed by the server
        writer.close()
        with pytest.raises(aiosmtplib.SMTPConnectResponseError) as refused:  # a real client sees the same
            await send(bounded, MAIL)
        assert refused.value.code == 421
        await first.quit()  # a session freed ...
        errors, _ = await send(bounded, MAIL)  # ... lets the next one in
        assert errors == {}
        await second.sendmail("ivan@example.ru", ["support@priyom.local"], MAIL)  # the held one still works
        await second.quit()
        for _ in range(3):  # sessions that end are not counted any longer, however they end
            reader, writer, greeted = await greeting(bounded.smtp_port)
            assert greeted.startswith(b"220 ")
            writer.close()
            await writer.wait_closed()
        await asyncio.sleep(0.2)
        errors, _ = await send(bounded, MAIL)
        assert errors == {}
    assert len(await bus_reader.contacts(3)) == 3


async def test_oversized_data_gets_552_and_nothing_is_published(
        running: object, settings: IntakeEmailSettings, bus_reader: BusReader) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=settings.smtp_port, start_tls=False, timeout=60)
    await client.connect()
    await client.ehlo()
    assert client.esmtp_extensions["size"] == str(settings.smtp_max_bytes)  # advertised from the limit
    with pytest.raises(aiosmtplib.SMTPResponseException) as declared:  # refused before any DATA
        await client.mail("ivan@example.ru", options=[f"SIZE={settings.smtp_max_bytes + 1}"])
    assert declared.value.code == 552
    await client.rset()
    await client.mail("ivan@example.ru")  # no SIZE= declared: the limit must hold while DATA streams in
    await client.rcpt("support@priyom.local")
    with pytest.raises(aiosmtplib.SMTPDataError) as too_big:
        await client.data(MAIL + (b"x" * 998 + b"\r\n") * (2 * settings.smtp_max_bytes // 1000))
    assert too_big.value.code == 552
    assert (await client.noop()).code == 250  # the session goes on
    await client.quit()

    # Streamed from a socket in small chunks, 16 times the limit: what the server kept is measured.
    reader, writer, _ = await greeting(settings.smtp_port)
    await dialogue(reader, writer)
    line = b"x" * 998 + b"\r\n"
    tracemalloc.start()
    try:
        for _ in range(16 * settings.smtp_max_bytes // (64 * len(line))):
            writer.write(line * 64)
            await writer.drain()
        writer.write(b".\r\n")
        answer = await asyncio.wait_for(reader.readline(), 30)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    writer.close()
    assert answer.startswith(b"552 ")
    assert peak < 3 * settings.smtp_max_bytes  # DATA past the limit was dropped as it came, not kept
    assert await bus_reader.contacts(1, timeout=1.0) == []
    assert await bus_reader.dead_letters(1, timeout=0.2) == []


async def test_a_line_without_a_break_beyond_the_limit_ends_the_session(
        running: object, settings: IntakeEmailSettings, bus_reader: BusReader) -> None:
    reader, writer, greeted = await greeting(settings.smtp_port)
    assert greeted.startswith(b"220 ")
    await dialogue(reader, writer)
    answering = asyncio.create_task(reader.read())  # the server answers while we are still sending
    tracemalloc.start()
    try:
        for _ in range(4 * settings.smtp_max_bytes // 65536):  # 4 times the limit, no CRLF anywhere
            writer.write(b"y" * 65536)
            await writer.drain()
    except ConnectionError:
        pass  # the server closed while we were still sending
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    answer = await asyncio.wait_for(answering, 10)
    writer.close()
    assert answer.startswith(b"552 5.3.4")
    assert peak < 2 * settings.smtp_max_bytes  # aiosmtpd alone would have kept the whole line
    assert await bus_reader.contacts(1, timeout=1.0) == []
