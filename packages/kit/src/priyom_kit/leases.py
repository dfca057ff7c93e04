"""Leader election for the jobs that must run once however many replicas run: one lease per job name.

Some jobs are singletons by nature, not by choice: an IMAP mailbox read by two replicas is read twice (two
sessions racing to flag the same UIDs), two AMI sessions to one PBX double every call event, and Telegram
answers the second ``getUpdates`` long poll of a bot with 409 Conflict. Each such job is wrapped in a
:class:`LeaderJob`: the replica holding the job's lease runs it, every other replica stands by and retries
the lease every :data:`RETRY_S` seconds, so one takes over within ``RETRY_S`` plus a connect once the leader
is gone.

**Why a database lock, not RabbitMQ's single-active-consumer.** Single-active-consumer elects a consumer of
a queue, which fits jobs that consume; these jobs read the outside world (IMAP, AMI, the Bot API) and
consume nothing, so they would need a dummy queue each, a consumer kept open only to learn whether it is
active, and a broker feature whose "you became active" signal aio-pika does not surface. The database is
already every service's dependency, and on PostgreSQL ``pg_try_advisory_lock`` is exactly a lease: held by
one session, freed by the server the moment that session ends, whether by a clean close, a ``kill -9`` of
the holder (the kernel closes its socket) or ``pg_terminate_backend``. No table, no clock, no expiry to tune.

**PostgreSQL** (:class:`PgLeases`): a session-level advisory lock on a dedicated connection (no pool: the
lock belongs to that one session), keyed by a stable 64-bit hash of the job name (``hashlib``: Python's
``hash()`` differs per process). A heartbeat (``SELECT 1`` every :data:`HEARTBEAT_S`) proves the session
is still ours; when it fails or hangs the job is cancelled at once, before a standby can have won for
long, and the lease is tried again. The server-side TCP keep-alives are shortened on that session so the
server also notices a holder whose host vanished without closing anything (a power cut, a partition) in
about ten seconds, not the system's two hours. Between a leader's session ending and its next heartbeat
both may run for at most ``HEARTBEAT_S``: the jobs tolerate that (every contact carries an idempotency key).

**SQLite** (:class:`FileLeases`) is the embedded, single-machine setup: there is no server to hold a lock
for a process that died. An OS file lock (``fcntl.flock``) on a file next to the database file plays the
part: the kernel frees it when the holder's process ends however it ends, so two processes on one machine
(a restart overlapping the old one, a second replica by mistake) still never both run the job. Replicas on
several machines need PostgreSQL; a shared SQLite file over a network file system is not supported anyway.
An in-memory SQLite database belongs to one process: its leases are always won.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import BigInteger, bindparam, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from .db import DatabaseUrl, plain_url
from .deadlines import bounded
from .logging import get_logger

log = get_logger("priyom.leases")

Role = Literal["leader", "standby"]
#: How often a standby tries the lease: a dead leader is replaced within this and one connect.
RETRY_S = 5.0
#: How often a leader proves its lease is still held; also the most two leaders can overlap.
HEARTBEAT_S = 2.0
#: An unanswered heartbeat counts as a lost lease after this long.
HEARTBEAT_TIMEOUT_S = 3.0
#: How long a job gets to end once cancelled (an IMAP logout, an AMI close) before it is left behind.
JOB_STOP_S = 10.0
#: Server-side keep-alives of the lease session (seconds; USERSET settings, no privilege needed).
PG_KEEPALIVES = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}


def lease_key(name: str) -> int:
    """The advisory-lock key of a job name: a signed 64-bit integer, the same in every process and release."""
    digest = hashlib.blake2b(f"priyom.lease:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Holding(Protocol):
    """A won lease: held until :meth:`release`, or until :meth:`alive` says it is gone."""

    async def alive(self) -> bool: ...

    async def release(self) -> None: ...


class Leases(Protocol):
    """Where leases are kept: :class:`PgLeases` or :class:`FileLeases` (:func:`open_leases` picks)."""

    async def try_hold(self, name: str) -> Holding | None:
        """The lease of ``name`` if no one holds it now, else None; never waits for it."""
        ...

    async def close(self) -> None: ...


# -- PostgreSQL -------------------------------------------------------------------------------------------

_TRY = select(func.pg_try_advisory_lock(bindparam("key", type_=BigInteger)))
_UNLOCK = select(func.pg_advisory_unlock(bindparam("key", type_=BigInteger)))


class PgLeases:
    """Advisory locks, one dedicated connection per lease held (the engine pools nothing)."""

    def __init__(self, url: DatabaseUrl, *, heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S) -> None:
        self.url = url
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self._engine: AsyncEngine | None = None

    def _connect_engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = create_async_engine(
                plain_url(self.url), poolclass=NullPool, isolation_level="AUTOCOMMIT",
                connect_args={"server_settings": PG_KEEPALIVES, "timeout": 10})
        return self._engine

    async def try_hold(self, name: str) -> Holding | None:
        conn = await self._connect_engine().connect()
        try:
            won = (await bounded(conn.execute(_TRY, {"key": lease_key(name)}), self.heartbeat_timeout_s)).scalar_one()
        except BaseException:
            await _close(conn)
            raise
        if not won:
            await _close(conn)
            return None
        return _PgHolding(conn, lease_key(name), self.heartbeat_timeout_s)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


class _PgHolding:
    def __init__(self, conn: AsyncConnection, key: int, timeout_s: float) -> None:
        self.conn = conn
        self.key = key
        self.timeout_s = timeout_s

    async def alive(self) -> bool:
        try:
            await bounded(self.conn.execute(text("SELECT 1")), self.timeout_s)
        except Exception:  # noqa: BLE001 - terminated, cut or hung: the lock is no longer known to be ours
            return False
        return True

    async def release(self) -> None:
        # Closing the session alone frees the lock; the unlock only makes it immediate on a healthy one.
        with contextlib.suppress(Exception):
            await bounded(self.conn.execute(_UNLOCK, {"key": self.key}), self.timeout_s)
        await _close(self.conn)


async def _close(conn: AsyncConnection) -> None:
    """Close a lease session even when it is broken (then it is invalidated, never reused)."""
    try:
        await bounded(conn.close(), HEARTBEAT_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - a dead session: drop it without a goodbye
        with contextlib.suppress(Exception):
            await conn.invalidate()


# -- SQLite: a file lock next to the database ---------------------------------------------------------------


class FileLeases:
    """``fcntl.flock`` on ``<database file>.lease-<key>``, one file per job name (its name written inside, for
    whoever lists the directory). ``database=None`` (in-memory SQLite) wins every lease."""

    def __init__(self, database: Path | None) -> None:
        self.database = database

    def path_of(self, name: str) -> Path:
        assert self.database is not None
        return self.database.with_name(f"{self.database.name}.lease-{lease_key(name) & (2**64 - 1):016x}")

    async def try_hold(self, name: str) -> Holding | None:
        if self.database is None:
            return _Always()
        path = self.path_of(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{name}\npid {os.getpid()}\n".encode())
        return _FileHolding(fd)

    async def close(self) -> None:
        return None


class _FileHolding:
    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd

    async def alive(self) -> bool:
        return self.fd is not None  # a flock stays ours while its descriptor is open

    async def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the last descriptor releases the flock
            self.fd = None


class _Always:
    async def alive(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def open_leases(url: DatabaseUrl) -> Leases:
    """The leases of the service's own database: advisory locks on PostgreSQL, file locks on SQLite."""
    parsed = make_url(plain_url(url))
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        return FileLeases(Path(database).resolve() if database and database != ":memory:" else None)
    return PgLeases(url)


# -- the runner ---------------------------------------------------------------------------------------------


class LeaderJob:
    """Runs ``job()`` while this process holds the lease ``name``; stands by otherwise.

    ``job`` is a coroutine function meant to run until cancelled (a mailbox reader, an AMI session, a poll
    loop). It is started when the lease is won and cancelled when the lease is lost (a failed heartbeat) or
    the service stops; if it ends by itself (a crash), the lease is released and tried again after
    ``retry_s``, so another replica may do better. :attr:`role` is what ``/health`` reports.
    """

    def __init__(self, name: str, leases: Leases, job: Callable[[], Awaitable[object]], *,
                 retry_s: float = RETRY_S, heartbeat_s: float = HEARTBEAT_S) -> None:
        self.name = name
        self.leases = leases
        self.job = job
        self.retry_s = retry_s
        self.heartbeat_s = heartbeat_s
        self.role: Role = "standby"
        #: How many times this process won the lease (tests and logs: a takeover is a new term).
        self.terms = 0
        self._task: asyncio.Task[None] | None = None
        self._starting = False
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"lease:{self.name}")

    async def launch(self) -> None:
        """:meth:`start` as a service's lifecycle hook (``ServiceParts.after_start``, which awaits)."""
        self.start()

    async def stop(self) -> None:
        """Cancel the job if it runs and release the lease (a standby elsewhere takes over at once).

        A cancellation can be lost on its way (Python 3.11's ``asyncio.wait_for`` returned the result instead
        when its operation finished at that moment; a library may catch it): the loop also stops at its next
        turn once asked, and the task is cancelled again until it has ended. A lost one had kept a runner
        winning and releasing its lease for minutes after its stop (seen in CI)."""
        self._stopping = True
        if self._task is not None:
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=1.0)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.role = "standby"

    def healthy_when(self, check: Callable[[], Awaitable[bool]]) -> Callable[[], Awaitable[bool]]:
        """A ``/health`` check of the job that a standby passes: it is not the standby's to run. A leader whose
        job has not taken its first step yet passes too: a job sets up what its check reads as it starts (the
        Telegram poller its start time), and a probe in between failed a takeover for a moment (seen in CI)."""
        async def role_aware() -> bool:
            return self.role == "standby" or self._starting or await check()
        return role_aware

    async def _first_step(self) -> object:
        self._starting = False
        return await self.job()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                holding = await self.leases.try_hold(self.name)
            except Exception as exc:  # noqa: BLE001 - the database is away: stand by, try again
                log.warning("lease not tried", job=self.name, error=type(exc).__name__)
                holding = None
            if holding is not None:
                try:
                    await self._lead(holding)
                finally:
                    self.role = "standby"
                    await holding.release()
            await asyncio.sleep(self.retry_s)

    async def _lead(self, holding: Holding) -> None:
        self.role = "leader"
        self.terms += 1
        log.info("lease won: job started", job=self.name, term=self.terms)
        self._starting = True
        job = asyncio.ensure_future(self._first_step())
        try:
            while True:
                done, _ = await asyncio.wait({job}, timeout=self.heartbeat_s)
                if done:
                    error = None if job.cancelled() else job.exception()
                    log.warning("job ended: lease released", job=self.name,
                                error=type(error).__name__ if error else None)
                    return
                if not await holding.alive():
                    log.warning("lease lost: job stopped", job=self.name)
                    return
        finally:
            self._starting = False
            await _cancel(job, self.name)


async def _cancel(job: asyncio.Future[Any], name: str) -> None:
    if job.done():
        return
    job.cancel()
    await asyncio.wait({job}, timeout=JOB_STOP_S)
    if not job.done():
        log.error("job did not stop when cancelled", job=name, waited_s=JOB_STOP_S)
