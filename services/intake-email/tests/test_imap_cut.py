"""A connection cut in the middle of an IMAP command: the reader reconnects at once, not after the command's
timeout. Dovecot does this itself (``BYE IMAP session state is inconsistent``) when a selected folder is
deleted and created again; a proxy between the service and the real Dovecot cuts on cue here."""

from __future__ import annotations

import asyncio
import contextlib
import time

from priyom_intake_email.settings import ImapMailbox, IntakeEmailSettings
from priyom_testing.dovecot import Dovecot
from priyom_testing.ports import free_port

from .conftest import BusReader
from .test_imap import append, service


class CuttingProxy:
    """Forwards IMAP between the service and Dovecot; once armed, the next client line holding ``cut_on`` is
    not forwarded: both sides of that connection are closed instead, and the proxy disarms."""

    def __init__(self, upstream_port: int, cut_on: bytes) -> None:
        self.upstream_port, self.cut_on = upstream_port, cut_on
        self.port = free_port()
        self.armed = False
        self.cuts = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        pumps = [asyncio.ensure_future(self._pump(reader, up_writer, inspect=True)),
                 asyncio.ensure_future(self._pump(up_reader, writer, inspect=False))]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
        for w in (writer, up_writer):
            w.close()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, inspect: bool) -> None:
        while line := await source.readline():
            if inspect and self.armed and self.cut_on in line:
                self.armed = False
                self.cuts += 1
                return
            sink.write(line)
            await sink.drain()


async def test_a_connection_cut_during_a_command_reconnects_at_once(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    first = b"From: a@example.org\r\nSubject: one\r\nMessage-ID: <cut-1@example.org>\r\n\r\nfirst\r\n"
    second = b"From: a@example.org\r\nSubject: two\r\nMessage-ID: <cut-2@example.org>\r\n\r\nsecond\r\n"
    async with CuttingProxy(dovecot.port, b"UID SEARCH") as proxy:
        box = ImapMailbox(**{**dovecot.mailbox_config(mailbox_user), "port": proxy.port})
        # Commands wait 30 s for their answer; IDLE restarts every 60 s: neither may bring the second mail.
        config = settings.model_copy(update={"imap_mailboxes": [box], "smtp_enabled": False, "imap_idle_s": 60})
        await append(dovecot, mailbox_user, [first])
        async with service(config):
            [event] = await bus_reader.contacts(1, timeout=15)
            await asyncio.sleep(0.5)  # idling
            proxy.armed = True  # the search the new mail's push starts is cut off before Dovecot sees it
            started = time.monotonic()
            await append(dovecot, mailbox_user, [second])
            [again] = await bus_reader.contacts(1, timeout=12)
            took = time.monotonic() - started
    assert proxy.cuts == 1
    assert (event.contact.body, again.contact.body) == ("first", "second")
    assert took < 12
