"""A connection cut in the middle of an IMAP command: the reader reconnects at once, not after the command's
timeout. Dovecot does this itself (``BYE IMAP session state is inconsistent``) when a selected folder is
deleted and created again; a proxy between the service and the real Dovecot cuts on cue here. The same proxy
holds a command on cue: the folder is recreated while a batch's STORE is on its way (Dovecot answers NO), and
the service stops while its IDLE is on its way."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from priyom_intake_email.imap.readers import PROCESSED_KEYWORD
from priyom_intake_email.settings import ImapMailbox, IntakeEmailSettings
from priyom_testing.dovecot import Dovecot
from priyom_testing.ports import free_port

from .conftest import BusReader, saved_checkpoint
from .test_imap import append, imap, service, uids
from .test_imap_rematch import mail, recreate


class CuttingProxy:
    """Forwards IMAP between the service and Dovecot; once armed, the next client line holding ``cut_on`` is
    not forwarded: both sides of that connection are closed instead, and the proxy disarms. Given ``meanwhile``,
    that line is held instead until ``meanwhile()`` returns (what the lines after it wait for), then forwarded.
    ``unconnected`` is set while no connection is open through the proxy."""

    def __init__(self, upstream_port: int, cut_on: bytes,
                 meanwhile: Callable[[], Awaitable[object]] | None = None) -> None:
        self.upstream_port, self.cut_on, self.meanwhile = upstream_port, cut_on, meanwhile
        self.port = free_port()
        self.armed = False
        self.cuts = 0
        self.connections = 0
        self.unconnected = asyncio.Event()
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
        self.connections += 1
        self.unconnected.clear()
        pumps = [asyncio.ensure_future(self._pump(reader, up_writer, inspect=True)),
                 asyncio.ensure_future(self._pump(up_reader, writer, inspect=False))]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
        for w in (writer, up_writer):
            w.close()
        self.connections -= 1
        if not self.connections:
            self.unconnected.set()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, inspect: bool) -> None:
        while line := await source.readline():
            if inspect and self.armed and self.cut_on in line:
                self.armed = False
                self.cuts += 1
                if self.meanwhile is None:
                    return
                await self.meanwhile()
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


async def test_a_folder_recreated_under_a_store_publishes_nothing_twice(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    # The batch is published, then the folder is deleted and restored before its STORE reaches Dovecot, which
    # answers NO (the folder was deleted under the session). The mail is on the bus all the same: read again
    # from the restored folder (new UIDVALIDITY, flags gone), it is matched, not published a second time.
    first = [mail(0), mail(1), mail(2), mail(3, message_id=False)]
    async with imap(dovecot, mailbox_user) as client:
        await client.create("Support")
    await append(dovecot, mailbox_user, first, "Support")

    async def restore() -> None:
        await recreate(dovecot, mailbox_user, "Support")
        await append(dovecot, mailbox_user, [*first, mail(4)], "Support")

    async with CuttingProxy(dovecot.port, b"UID STORE", meanwhile=restore) as proxy:
        box = ImapMailbox(**{**dovecot.mailbox_config(mailbox_user, folder="Support"), "port": proxy.port})
        config = settings.model_copy(update={"imap_mailboxes": [box], "smtp_enabled": False})
        proxy.armed = True
        async with service(config):
            events = await bus_reader.contacts(5, timeout=15)
            assert await bus_reader.contacts(1, timeout=1.5) == []
    assert proxy.cuts == 1
    assert sorted(e.contact.body for e in events) == ["body 0", "body 1", "body 2", "body 3", "body 4"]
    assert await uids(dovecot, mailbox_user, "Support", f"UNKEYWORD {PROCESSED_KEYWORD}") == []
    saved = await saved_checkpoint(config, mailbox_user)
    assert saved is not None and saved.last_uid == 5 and saved.rematch_until == 5


async def test_a_stop_before_the_server_confirms_idle_ends_the_session(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    # A stop usually lands just after a batch, while the reader waits for Dovecot's "+ idling". The session must
    # end all the same (IDLE done, LOGOUT, socket closed) before the stop returns: one left idling keeps the
    # folder selected, and its STORE or Dovecot's process for it meets a folder recreated meanwhile.
    held, released = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        held.set()
        await released.wait()

    async with CuttingProxy(dovecot.port, b"IDLE", meanwhile=hold) as proxy:
        box = ImapMailbox(**{**dovecot.mailbox_config(mailbox_user), "port": proxy.port})
        config = settings.model_copy(update={"imap_mailboxes": [box], "smtp_enabled": False})
        await append(dovecot, mailbox_user, [mail(0)])
        proxy.armed = True
        async with service(config):
            assert len(await bus_reader.contacts(1)) == 1
            async with asyncio.timeout(10):
                await held.wait()
            asyncio.get_running_loop().call_later(0.5, released.set)  # Dovecot gets the IDLE once the stop began
        async with asyncio.timeout(1):  # the proxy learns of the closed socket a moment after the stop
            await proxy.unconnected.wait()
