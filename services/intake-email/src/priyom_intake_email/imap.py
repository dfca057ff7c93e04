"""IMAP mailboxes (aioimaplib, GPL-3.0-only: it stays inside this service).

One reader per configured mailbox. Each keeps ``(UIDVALIDITY, last UID)`` in the database and moves it only
after the broker confirmed the publish of every message up to that UID, so a crash or a dropped connection
re-reads at most the messages whose publish was not yet confirmed (and those carry the same idempotency
key, so they are still one ticket message). Processed mail is flagged ``\\Seen $PriyomDone`` or moved to a
configured folder. When UIDVALIDITY changes, old UIDs mean nothing: every message not yet marked processed
is read again (flag mode), or everything still in the folder (move mode).

New mail is noticed by IDLE, restarted every ``imap_idle_s``; servers without IDLE are polled. A lost
connection, a ``BYE`` or any protocol error throws the client away and reconnects with doubling delays
(aioimaplib has no reconnect of its own, and its IDLE task never ends on a lost connection).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence

from aioimaplib import IMAP4, STOP_WAIT_SERVER_PUSH, Response

from priyom_kit.logging import get_logger

from .imap_login import ImapError, open_client
from .imap_login import ok as _ok
from .intake import MailIntake
from .oauth2 import AccessTokens
from .settings import ImapMailbox, IntakeEmailSettings
from .store import Checkpoint, Checkpoints

log = get_logger("priyom.intake-email.imap")

PROCESSED_KEYWORD = "$PriyomDone"
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_FETCH_UID = re.compile(rb"\bUID (\d+)")


def uidvalidity_of(response: Response) -> int:
    for line in response.lines:
        match = _UIDVALIDITY.search(bytes(line))
        if match:
            return int(match.group(1))
    raise ImapError("the server did not send UIDVALIDITY")


def fetched_messages(lines: Sequence[bytes | bytearray]) -> dict[int, bytes]:
    """``UID FETCH … BODY.PEEK[]`` response lines to {uid: raw message}: the literal follows its FETCH line."""
    messages: dict[int, bytes] = {}
    for i, line in enumerate(lines[:-1]):
        following = lines[i + 1]
        if isinstance(line, bytes) and b"FETCH" in line and isinstance(following, bytearray):
            match = _FETCH_UID.search(line)
            if match:
                messages[int(match.group(1))] = bytes(following)
    return messages


def uid_set(uids: Iterable[int]) -> str:
    """``1:3,7,9:10``: compact, so a thousand UIDs stay one short command."""
    ranges: list[str] = []
    start = previous = None
    for uid in sorted(uids):
        if previous is not None and uid == previous + 1:
            previous = uid
            continue
        if start is not None:
            ranges.append(f"{start}:{previous}" if start != previous else str(start))
        start = previous = uid
    if start is not None:
        ranges.append(f"{start}:{previous}" if start != previous else str(start))
    return ",".join(ranges)


class MailboxReader:
    """Reads one mailbox for as long as the service runs."""

    def __init__(self, mailbox: ImapMailbox, settings: IntakeEmailSettings, intake: MailIntake,
                 checkpoints: Checkpoints) -> None:
        self.mailbox = mailbox
        self.settings = settings
        self.intake = intake
        self.checkpoints = checkpoints
        self.source = f"imap:{mailbox.name}"
        self.tokens = AccessTokens(mailbox) if mailbox.auth == "xoauth2" else None

    async def run(self) -> None:
        delay = 1.0
        while True:
            connected = False
            try:
                async for _ in self._session():
                    connected = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: throw the client away and reconnect
                delay = 1.0 if connected else min(delay * 2, self.settings.imap_backoff_max_s)
                log.warning("imap session ended", mailbox=self.mailbox.name, error=f"{type(exc).__name__}: {exc}"[:300],
                            retry_in_s=delay)
            else:
                delay = 1.0
            await asyncio.sleep(delay)

    async def _session(self):  # type: ignore[no-untyped-def]
        """One connection: yields once logged in (the caller resets its backoff), then reads until it fails."""
        lost = asyncio.Event()
        box = self.mailbox
        client = await open_client(box, self.tokens, lambda _: lost.set())
        try:
            uidvalidity = uidvalidity_of(_ok(await client.select(box.folder), "SELECT"))
            yield
            log.info("imap connected", mailbox=box.name)
            while not lost.is_set():
                await self.drain(client, uidvalidity)
                if client.has_capability("IDLE"):
                    await self._idle(client, lost)
                else:
                    await asyncio.sleep(self.settings.imap_poll_s)
                    _ok(await client.noop(), "NOOP")
            raise ImapError("connection lost")
        finally:
            if not lost.is_set():
                try:
                    await asyncio.wait_for(client.logout(), 5)
                except Exception:  # noqa: BLE001, S110 - the connection is being thrown away anyway
                    pass

    async def drain(self, client: IMAP4, uidvalidity: int) -> int:
        """Publish every new message, batch by batch; returns how many were accepted."""
        checkpoint = await self.checkpoints.load(self.mailbox.name)
        if checkpoint is None or checkpoint.uidvalidity != uidvalidity:
            if checkpoint is not None:
                log.warning("imap UIDVALIDITY changed: re-reading unprocessed mail", mailbox=self.mailbox.name)
            checkpoint = Checkpoint(uidvalidity, 0)
        criteria = f"UID {checkpoint.last_uid + 1}:*"
        if self.mailbox.processed_folder is None:
            criteria += f" UNKEYWORD {PROCESSED_KEYWORD}"
        response = _ok(await client.uid_search(criteria), "UID SEARCH")
        uids = sorted({int(u) for line in response.lines[:1] for u in bytes(line).split() if u.isdigit()})
        uids = [u for u in uids if u > checkpoint.last_uid]  # "n:*" always returns the highest UID
        accepted = 0
        for start in range(0, len(uids), self.settings.imap_batch):
            batch = uids[start:start + self.settings.imap_batch]
            accepted += await self._batch(client, checkpoint.uidvalidity, batch)
        return accepted

    async def _batch(self, client: IMAP4, uidvalidity: int, batch: list[int]) -> int:
        response = _ok(await client.uid("fetch", uid_set(batch), "(UID BODY.PEEK[])"), "UID FETCH")
        messages = fetched_messages(response.lines)
        # Publishing concurrently keeps many confirms in flight; the checkpoint waits for all of them.
        results = await asyncio.gather(*(self.intake.accept(messages[uid], self.source)
                                         for uid in batch if uid in messages), return_exceptions=True)
        outcomes = dict(zip([uid for uid in batch if uid in messages], results, strict=True))
        done: list[int] = []
        failure: BaseException | None = None
        for uid in batch:  # in UID order: the checkpoint never passes a message that is not safe
            result = outcomes.get(uid)
            if isinstance(result, BaseException):
                failure = result
                break
            done.append(uid)  # accepted, or expunged meanwhile (nothing left to read)
        if done:
            await self._mark_processed(client, [uid for uid in done if uid in messages])
            await self.checkpoints.save(self.mailbox.name, Checkpoint(uidvalidity, done[-1]))
        if failure is not None:
            raise ImapError(f"publish failed, checkpoint kept before it: {type(failure).__name__}") from failure
        return len(done)

    async def _mark_processed(self, client: IMAP4, uids: list[int]) -> None:
        if not uids:
            return
        if self.mailbox.processed_folder:
            _ok(await client.uid("move", uid_set(uids), self.mailbox.processed_folder), "UID MOVE")
        else:
            _ok(await client.uid("store", uid_set(uids), "+FLAGS.SILENT", rf"(\Seen {PROCESSED_KEYWORD})"),
                "UID STORE")

    async def _idle(self, client: IMAP4, lost: asyncio.Event) -> None:
        idle = await client.idle_start(timeout=self.settings.imap_idle_s)
        try:
            while not lost.is_set():
                try:
                    pushed = await asyncio.wait_for(client.wait_server_push(self.settings.imap_idle_s + 10),
                                                    self.settings.imap_idle_s + 15)
                except TimeoutError:
                    return
                if pushed == STOP_WAIT_SERVER_PUSH:
                    return
                lines = [bytes(line) for line in pushed] if isinstance(pushed, list) else []
                if any(line.startswith(b"BYE") for line in lines):
                    lost.set()
                    raise ImapError("server said BYE")
                if any(line.endswith((b"EXISTS", b"RECENT")) for line in lines):
                    return
        finally:
            # On a lost connection aioimaplib's IDLE task never ends: do not wait for it.
            if not lost.is_set():
                if client.has_pending_idle():
                    client.idle_done()
                try:
                    await asyncio.wait_for(idle, 5)
                except TimeoutError as exc:
                    raise ImapError("IDLE did not end: connection presumed lost") from exc


class ImapReaders:
    """One task per configured mailbox."""

    def __init__(self, settings: IntakeEmailSettings, intake: MailIntake, checkpoints: Checkpoints) -> None:
        self.readers = [MailboxReader(box, settings, intake, checkpoints) for box in settings.imap_mailboxes]
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(reader.run(), name=reader.source) for reader in self.readers]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
