"""IMAP mailboxes (aioimaplib, GPL-3.0-only: it stays inside this service).

One reader per configured mailbox. Each keeps ``(UIDVALIDITY, last UID)`` in the database and moves it only
after the broker confirmed the publish of every message up to that UID, so a crash or a dropped connection
re-reads at most the messages whose publish was not yet confirmed (and those carry the same idempotency
key, so they are still one ticket message). Processed mail is flagged ``\\Seen $PriyomDone`` or moved to a
configured folder; when that fails (a folder deleted under the session answers NO) or a publish beside it
does, the keys of the mail already published are saved all the same and the messages are matched when read
again. A stop ends the session on the server (IDLE, LOGOUT, socket) before it returns.

When UIDVALIDITY changes (a recreated or migrated mailbox), old UIDs mean nothing and flags may be gone:
every message not marked processed (flag mode), or still in the folder (move mode), is read again, but each
one up to the highest UID present at the change is matched by its key (Message-ID and content hash, or the
content hash alone) against the mail this mailbox already published, recorded with every checkpoint: known
mail is only marked processed, never published again.

Memory: sizes are asked first, a fetch carries at most ``imap_batch`` messages and ``imap_fetch_bytes``
bytes, and a message over the size limit is not fetched whole: its header goes to the dead-letter queue
with the reason and where the message stays (it is marked processed, never deleted).

New mail is noticed by IDLE, restarted every ``imap_idle_s``; servers without IDLE are polled. A lost
connection, a ``BYE`` or any protocol error throws the client away and reconnects with doubling delays
(aioimaplib has no reconnect of its own, and its IDLE task never ends on a lost connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Any

from aioimaplib import IMAP4, STOP_WAIT_SERVER_PUSH

from priyom_kit import HttpClient
from priyom_kit.deadlines import bounded
from priyom_kit.leases import LeaderJob, Leases
from priyom_kit.logging import get_logger

from ..intake import Accepted, MailIntake, Outcome
from ..metrics import MailboxMetrics
from ..oauth2 import AccessTokens
from ..settings import ImapMailbox, IntakeEmailSettings
from ..store import Checkpoint, Checkpoints
from .login import ImapError, open_client
from .login import ok as _ok
from .plan import FetchBatch, fetch_batches, fetched_messages, fetched_sizes, uid_set, uidvalidity_of

log = get_logger("priyom.intake-email.imap")

PROCESSED_KEYWORD = "$PriyomDone"
#: aioimaplib recurses once per line of an answer (the default limit is 1,000 frames): answers stay short.
MAX_LINES_PER_ANSWER = 200
#: How long a stop lets a batch in hand finish (its publishes confirmed, its checkpoint and keys saved).
FINISH_BATCH_S = 10.0
#: How long ending a session may take (its IDLE ended, then LOGOUT) before the connection is simply closed.
CLOSE_S = 5.0


async def _carried_through(step: Awaitable[None]) -> None:
    """``await step`` to its end even when the caller is cancelled meanwhile; the cancellation goes on after."""
    task = asyncio.ensure_future(step)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


class MailboxReader:
    """Reads one mailbox for as long as the service runs."""

    def __init__(self, mailbox: ImapMailbox, settings: IntakeEmailSettings, intake: MailIntake,
                 checkpoints: Checkpoints, metrics: MailboxMetrics, token_endpoints: HttpClient) -> None:
        self.mailbox = mailbox
        self.metrics = metrics
        self.settings = settings
        self.intake = intake
        self.checkpoints = checkpoints
        self.source = f"imap:{mailbox.name}"
        self.tokens = AccessTokens(mailbox, token_endpoints) if mailbox.auth == "xoauth2" else None
        #: Held while a batch is published and saved: a stop waits for it, so mail published is never left
        #: without its checkpoint (after a recreated mailbox it would be published again).
        self.busy = asyncio.Lock()
        #: Set while no session of this reader is open on the server.
        self.session_closed = asyncio.Event()
        self.session_closed.set()

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
                self.metrics.connected.labels(self.mailbox.name).set(0)
                self.metrics.sessions_ended.labels(self.mailbox.name).inc()
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
        self.session_closed.clear()
        reading: asyncio.Future[None] | None = None
        try:
            uidvalidity = uidvalidity_of(_ok(await client.select(box.folder), "SELECT"))
            if uidvalidity is None:
                raise ImapError("the server did not send UIDVALIDITY")
            yield
            log.info("imap connected", mailbox=box.name)
            self.metrics.connected.labels(box.name).set(1)
            # aioimaplib leaves a command sent just before the connection dropped (a server's BYE, a cut
            # network) waiting for its full timeout: the loss itself ends the reading at once.
            reading = asyncio.ensure_future(self._read(client, uidvalidity, lost))
            watching = asyncio.ensure_future(lost.wait())
            try:
                await asyncio.wait({reading, watching}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                watching.cancel()
            if reading.done() and not reading.cancelled() and reading.exception() is not None:
                raise reading.exception()  # type: ignore[misc]
            raise ImapError("connection lost")
        finally:
            await self._close(client, lost, reading)

    async def _close(self, client: IMAP4, lost: asyncio.Event, reading: asyncio.Future[None] | None) -> None:
        """End the session on the server before the reader goes. A session left behind (idling, its LOGOUT
        queued behind an IDLE nobody ends, its socket open) keeps the folder selected after the service
        stopped; when the folder is then deleted and created again, Dovecot's process for that session reads
        the new folder's index as a corrupted one of its own, under the next session reading the folder."""
        try:
            if reading is not None and not reading.done():
                reading.cancel()  # its IDLE is ended (DONE) before the LOGOUT
                await asyncio.wait({reading}, timeout=CLOSE_S)
            if reading is not None and reading.done() and not reading.cancelled():
                reading.exception()  # raised by _session already, or superseded by the stop
            if not lost.is_set():
                with contextlib.suppress(Exception):  # the connection is thrown away anyway
                    await bounded(client.logout(), CLOSE_S)
        finally:
            transport = client.protocol.transport
            if transport is not None and not transport.is_closing():
                transport.close()
            self.session_closed.set()

    async def _read(self, client: IMAP4, uidvalidity: int, lost: asyncio.Event) -> None:
        while not lost.is_set():
            await self.drain(client, uidvalidity)
            if client.has_capability("IDLE"):
                await self._idle(client, lost)
            else:
                await asyncio.sleep(self.settings.imap_poll_s)
                _ok(await client.noop(), "NOOP")

    async def drain(self, client: IMAP4, uidvalidity: int) -> int:
        """Publish every new message, batch by batch; returns how many were handled."""
        name = self.mailbox.name
        checkpoint = await self.checkpoints.load(name)
        changed = checkpoint is not None and checkpoint.uidvalidity != uidvalidity
        if checkpoint is None or changed:
            checkpoint = Checkpoint(uidvalidity, 0)
        criteria = f"UID {checkpoint.last_uid + 1}:*"
        if self.mailbox.processed_folder is None:
            criteria += f" UNKEYWORD {PROCESSED_KEYWORD}"
        response = _ok(await client.uid_search(criteria), "UID SEARCH")
        uids = sorted({int(u) for line in response.lines[:1] for u in bytes(line).split() if u.isdigit()})
        uids = [u for u in uids if u > checkpoint.last_uid]  # "n:*" always returns the highest UID
        if changed:
            # Everything present now may have been published under the old UIDVALIDITY: match it first. Saved
            # at once, so a crash in the middle of the re-match still re-matches after the restart.
            checkpoint = Checkpoint(uidvalidity, 0, rematch_until=max(uids, default=0))
            await self.checkpoints.save(name, checkpoint)
            log.warning("imap UIDVALIDITY changed: matching the mailbox against the mail already published",
                        mailbox=name, to_match=len(uids))
        self.metrics.backlog.labels(name).set(len(uids))
        handled = 0
        if uids:
            sizes = await self._sizes(client, uids)
            for batch in fetch_batches(uids, sizes, max_count=self.settings.imap_batch,
                                       max_bytes=self.settings.imap_fetch_bytes,
                                       max_message_bytes=self.intake.limits.max_bytes):
                async with self.busy:
                    done, checkpoint = await self._batch(client, checkpoint, batch, sizes)
                handled += done
                self.metrics.backlog.labels(name).dec(done)
        self.metrics.last_drain.labels(name).set(time.time())
        return handled

    async def _sizes(self, client: IMAP4, uids: list[int]) -> dict[int, int]:
        sizes: dict[int, int] = {}
        # aioimaplib parses an answer recursively, one frame per line: a few hundred lines per answer at most.
        for start in range(0, len(uids), MAX_LINES_PER_ANSWER):
            response = _ok(await client.uid("fetch", uid_set(uids[start:start + MAX_LINES_PER_ANSWER]),
                                            "(UID RFC822.SIZE)"), "UID FETCH RFC822.SIZE")
            sizes.update(fetched_sizes(response.lines))
        return sizes

    async def _fetch(self, client: IMAP4, batch: FetchBatch, sizes: dict[int, int]) -> dict[int, bytes]:
        if not batch.oversized:
            response = _ok(await client.uid("fetch", uid_set(batch.uids), "(UID BODY.PEEK[])"), "UID FETCH")
            messages = fetched_messages(response.lines)
        else:
            [uid] = batch.uids
            # A partial fetch: even the header is read no further than the header limit.
            response = _ok(await client.uid("fetch", str(uid), f"(UID BODY.PEEK[HEADER]<0.{self.intake.limits.max_header_bytes}>)"),
                           "UID FETCH HEADER")
            messages = fetched_messages(response.lines)
        self.metrics.fetched_bytes.labels(self.mailbox.name).inc(sum(len(m) for m in messages.values()))
        return messages

    async def _accept(self, uid: int, raw: bytes, batch: FetchBatch, checkpoint: Checkpoint,
                      sizes: dict[int, int]) -> Accepted:
        seen = self._ingested if uid <= checkpoint.rematch_until else None
        if not batch.oversized:
            return await self.intake.accept(raw, self.source, seen=seen)
        box = self.mailbox
        where = f"is moved to {box.processed_folder}" if box.processed_folder else f"stays in {box.folder}"
        reason = (f"message of {sizes.get(uid)} bytes exceeds the limit of {self.intake.limits.max_bytes}: only its "
                  f"header is here; the whole message {where} in mailbox {box.name} "
                  f"(UIDVALIDITY {checkpoint.uidvalidity}, UID {uid})")
        return await self.intake.refuse(raw, reason, self.source, seen)

    async def _ingested(self, key: str) -> bool:
        return await self.checkpoints.ingested(self.mailbox.name, key)

    async def _batch(self, client: IMAP4, checkpoint: Checkpoint, batch: FetchBatch,
                     sizes: dict[int, int]) -> tuple[int, Checkpoint]:
        messages = await self._fetch(client, batch, sizes)
        outcomes, cancelled = await self._publish(messages, batch, checkpoint, sizes)
        done: list[int] = []
        failure: BaseException | None = None
        for uid in batch.uids:  # in UID order: the checkpoint never passes a message that is not safe
            result = outcomes.get(uid)
            if isinstance(result, BaseException):
                failure = result
                break
            done.append(uid)  # handled, or expunged meanwhile (nothing left to read)
        accepted = {uid: r for uid, r in outcomes.items() if isinstance(r, Accepted)}
        for a in accepted.values():
            self.metrics.messages.labels(self.mailbox.name, "oversized" if batch.oversized else a.outcome.value).inc()
        # Every publish the broker confirmed is recorded, whatever fails beside it or after it: a publish, the
        # connection, the STORE or MOVE (a folder deleted and created again under the session answers NO, then
        # Dovecot drops the session). Read again, those messages are matched by their keys (up to rematch_until)
        # instead of being published a second time.
        ingested = [(a.key, a.message_id) for a in accepted.values() if a.outcome is not Outcome.ALREADY_INGESTED]
        kept = Checkpoint(checkpoint.uidvalidity, checkpoint.last_uid, max([checkpoint.rematch_until, *accepted]))
        try:
            if cancelled is not None:
                raise cancelled
            await self._mark_processed(client, [uid for uid in done if uid in messages])
        except BaseException:
            if accepted:
                await _carried_through(self.checkpoints.save(self.mailbox.name, kept, ingested))
            raise
        if done or accepted:
            checkpoint = Checkpoint(checkpoint.uidvalidity, done[-1] if done else checkpoint.last_uid,
                                    checkpoint.rematch_until if failure is None else kept.rematch_until)
            await _carried_through(self.checkpoints.save(self.mailbox.name, checkpoint, ingested))
        if done:
            self.metrics.last_uid.labels(self.mailbox.name).set(done[-1])
        if failure is not None:
            raise ImapError(f"publish failed, checkpoint kept before it: {type(failure).__name__}") from failure
        return len(done), checkpoint

    async def _publish(self, messages: dict[int, bytes], batch: FetchBatch, checkpoint: Checkpoint,
                       sizes: dict[int, int]) -> tuple[dict[int, Accepted | BaseException], BaseException | None]:
        """Every message of the batch to the bus, concurrently (many confirms in flight), with what became of
        each. A cancellation meanwhile (a lost connection) waits for the broker's answers and is returned:
        the caller records what the broker has before the cancellation goes on."""
        present = [uid for uid in batch.uids if uid in messages]
        publishing = asyncio.ensure_future(asyncio.gather(
            *(self._accept(uid, messages[uid], batch, checkpoint, sizes) for uid in present), return_exceptions=True))
        cancelled: BaseException | None = None
        try:
            results = await asyncio.shield(publishing)
        except asyncio.CancelledError as cancel:
            results, cancelled = await publishing, cancel
        return dict(zip(present, results, strict=True)), cancelled

    async def _mark_processed(self, client: IMAP4, uids: list[int]) -> None:
        if not uids:
            return
        if self.mailbox.processed_folder:
            _ok(await client.uid("move", uid_set(uids), self.mailbox.processed_folder), "UID MOVE")
        else:
            _ok(await client.uid("store", uid_set(uids), "+FLAGS.SILENT", rf"(\Seen {PROCESSED_KEYWORD})"),
                "UID STORE")

    async def _idle(self, client: IMAP4, lost: asyncio.Event) -> None:
        idle: asyncio.Future[Any] | None = None
        try:
            # Inside the try: a stop often lands here, right after a batch, before the server confirmed the
            # IDLE; the server is idling all the same and only a DONE ends it.
            idle = await client.idle_start(timeout=self.settings.imap_idle_s)
            while not lost.is_set():
                try:
                    pushed = await bounded(client.wait_server_push(self.settings.imap_idle_s + 10),
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
                if idle is not None:  # else the LOGOUT waits for the IDLE to end
                    try:
                        await bounded(idle, CLOSE_S)
                    except TimeoutError as exc:
                        raise ImapError("IDLE did not end: connection presumed lost") from exc


class ImapReaders:
    """One reader per configured mailbox, each run by the replica holding the mailbox's lease (two sessions
    on one mailbox would race to publish and flag the same UIDs; a standby takes over when the holder dies).
    ``token_endpoints`` is the client XOAUTH2 mailboxes get their access tokens through."""

    def __init__(self, settings: IntakeEmailSettings, intake: MailIntake, checkpoints: Checkpoints,
                 metrics: MailboxMetrics, token_endpoints: HttpClient, leases: Leases) -> None:
        self.readers = [MailboxReader(box, settings, intake, checkpoints, metrics, token_endpoints)
                        for box in settings.imap_mailboxes]
        self.jobs = [LeaderJob(f"intake-email/imap/{reader.mailbox.name}", leases, reader.run)
                     for reader in self.readers]

    def start(self) -> None:
        for reader in self.readers:
            reader.busy = asyncio.Lock()  # a stop keeps the old one
        for job in self.jobs:
            job.start()

    async def stop(self) -> None:
        """Stop each reader between batches (a batch in hand gets :data:`FINISH_BATCH_S` to be saved), then
        wait for its IMAP session to end on the server."""
        async def between_batches(reader: MailboxReader) -> None:
            with contextlib.suppress(TimeoutError):
                await bounded(reader.busy.acquire(), FINISH_BATCH_S)  # held until the task is gone

        async def session_closed(reader: MailboxReader) -> None:
            with contextlib.suppress(TimeoutError):
                await bounded(reader.session_closed.wait(), 2 * CLOSE_S)

        await asyncio.gather(*(between_batches(reader) for reader in self.readers))
        await asyncio.gather(*(job.stop() for job in self.jobs))  # the readers cancelled, the leases released
        # A job the lease runner gave up waiting for still ends its session: nothing of this service stays
        # logged in to a mailbox once the stop returns (an operator may delete and recreate the folder next).
        await asyncio.gather(*(session_closed(reader) for reader in self.readers))
