"""Leases (leases.py) against a real PostgreSQL and real file locks: one leader per name, and a standby that
takes over when the leader's session ends, whether terminated by the server or by a ``kill -9``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from priyom_kit.leases import LeaderJob, Leases, lease_key, open_leases
from priyom_kit.pytest_plugin import create_pg_database, drop_pg_database

HOLDER = Path(__file__).with_name("lease_holder.py")
#: What the issue asks: a dead leader is replaced within this.
TAKEOVER_LIMIT_S = 15.0


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


class Job:
    """A job that records its runs and whether it was cancelled."""

    def __init__(self) -> None:
        self.started = 0
        self.cancelled = asyncio.Event()

    async def __call__(self) -> None:
        self.started += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


async def until(check, timeout: float) -> float:  # type: ignore[no-untyped-def]
    """Wait until ``check()`` holds; the seconds it took (fails after ``timeout``)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not check():
        if loop.time() - start > timeout:
            raise AssertionError(f"not reached within {timeout} s")
        await asyncio.sleep(0.05)
    return loop.time() - start


async def leader_line(stdout: asyncio.StreamReader) -> None:
    """Read the holder's output (its log lines too) up to its ``leader``."""
    while (line := await stdout.readline()) != b"leader\n":
        assert line, "the holder exited"


async def lock_holder_pid(url: str, name: str) -> int | None:
    """The backend holding the lease, as an operator finds it in ``pg_locks``."""
    key = lease_key(name) & (2**64 - 1)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return await conn.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid::bigint = $1 "
            "AND objid::bigint = $2 AND objsubid = 1", key >> 32, key & 0xFFFFFFFF)
    finally:
        await conn.close()


def test_the_key_is_stable_across_processes() -> None:
    # Python's hash() of a str differs per process (PYTHONHASHSEED): two replicas must agree on the key.
    import subprocess

    code = "from priyom_kit.leases import lease_key; print(lease_key('intake-email/imap/support'))"
    keys = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout.strip() for seed in ("1", "2")}
    assert keys == {str(lease_key("intake-email/imap/support"))}
    assert -(2**63) <= lease_key("x") < 2**63
    assert lease_key("intake-email/imap/support") != lease_key("intake-email/imap/sales")


async def test_two_holders_of_one_name_make_one_leader(database_url: str) -> None:
    jobs = [Job(), Job()]
    leases: list[Leases] = [open_leases(database_url), open_leases(database_url)]
    runners = [LeaderJob("pbx/main", lease, job, retry_s=0.2, heartbeat_s=0.2)
               for lease, job in zip(leases, jobs, strict=True)]
    other = LeaderJob("pbx/other", leases[1], Job(), retry_s=0.2, heartbeat_s=0.2)
    try:
        for runner in (*runners, other):
            runner.start()
        await until(lambda: any(r.role == "leader" for r in runners), 10)
        await asyncio.sleep(1.0)  # several rounds of retries and heartbeats
        assert sorted(r.role for r in runners) == ["leader", "standby"]
        assert sum(job.started for job in jobs) == 1
        assert other.role == "leader"  # another name is another lease
        # A clean stop hands over at the standby's next try.
        leader, standby = sorted(runners, key=lambda r: r.role)
        await leader.stop()
        await until(lambda: standby.role == "leader", 5)
        await until(lambda: sum(job.started for job in jobs) == 2, 5)  # its job runs (a task: not at once)
        assert leader.role == "standby"
    finally:
        for runner in (*runners, other):
            await runner.stop()
        for lease in leases:
            await lease.close()


async def test_a_job_that_ends_gives_the_lease_back(database_url: str) -> None:
    runs = 0

    async def crashing() -> None:
        nonlocal runs
        runs += 1
        raise RuntimeError("the IMAP server went away")

    leases = open_leases(database_url)
    runner = LeaderJob("mailbox/crashy", leases, crashing, retry_s=0.1, heartbeat_s=0.1)
    runner.start()
    try:
        await until(lambda: runs >= 3, 10)  # released, won again, started again
    finally:
        await runner.stop()
        await leases.close()
    assert runner.role == "standby"


class LosingLeases:
    """Leases whose every attempt loses, and whose attempt in flight swallows a cancellation: what Python 3.11's
    ``asyncio.wait_for`` did when its operation finished just as the task was cancelled."""

    def __init__(self) -> None:
        self.tries = 0

    async def try_hold(self, name: str) -> None:
        self.tries += 1
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            return None  # the cancellation is lost here
        return None

    async def close(self) -> None:
        return None


async def test_a_lost_cancellation_does_not_keep_a_runner_going_after_its_stop() -> None:
    leases = LosingLeases()
    runner = LeaderJob("mailbox/losing", leases, Job(), retry_s=0.001)  # type: ignore[arg-type]
    runner.start()
    await until(lambda: leases.tries >= 3, 5)
    stopping = asyncio.create_task(runner.stop())
    done, _ = await asyncio.wait({stopping}, timeout=5)  # not cancelled from outside: that would help it
    if not done:  # it looped on for good before: end it for the next test, then fail
        while runner._task is not None and not runner._task.done():
            runner._task.cancel()
            await asyncio.sleep(0.05)
        await stopping
    assert done, "stop() did not return: the lost cancellation kept the runner going"
    tries = leases.tries
    await asyncio.sleep(0.1)
    assert leases.tries == tries, "the runner still tries for the lease after its stop"
    assert not runner.running and runner.role == "standby"


async def test_a_terminated_leader_session_hands_over(pg_url: str) -> None:
    jobs = [Job(), Job()]
    leases = [open_leases(pg_url), open_leases(pg_url)]
    # The production intervals: the takeover time measured here is the one a deployment gets.
    runners = [LeaderJob("bot/4242", lease, job) for lease, job in zip(leases, jobs, strict=True)]
    try:
        for runner in runners:
            runner.start()
        await until(lambda: any(r.role == "leader" for r in runners), 10)
        [old] = [i for i, r in enumerate(runners) if r.role == "leader"]
        new = 1 - old
        pid = await lock_holder_pid(pg_url, "bot/4242")
        assert pid is not None
        admin = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        stopped_in = await until(jobs[old].cancelled.is_set, TAKEOVER_LIMIT_S)
        took_over_in = await until(lambda: runners[new].role == "leader", TAKEOVER_LIMIT_S)
        print(f"old leader's job cancelled after {stopped_in:.2f} s, standby leader after {took_over_in:.2f} s more")
        await until(lambda: jobs[new].started == 1, 5)
        assert runners[old].role == "standby"
        await asyncio.sleep(1.0)
        assert [r.role for r in runners].count("leader") == 1
    finally:
        for runner in runners:
            await runner.stop()
        for lease in leases:
            await lease.close()


async def test_a_killed_leader_process_is_replaced(database_url: str) -> None:
    """``kill -9`` of the leader: PostgreSQL ends its session, the kernel drops its file lock; the standby,
    trying every few seconds, leads within the limit."""
    holder = await asyncio.create_subprocess_exec(sys.executable, str(HOLDER), database_url, "mailbox/support",
                                                  stdout=asyncio.subprocess.PIPE)
    leases = open_leases(database_url)
    job = Job()
    standby = LeaderJob("mailbox/support", leases, job)
    try:
        assert holder.stdout is not None
        await asyncio.wait_for(leader_line(holder.stdout), 30)
        standby.start()
        await asyncio.sleep(1.0)
        assert standby.role == "standby"
        assert job.started == 0
        holder.send_signal(signal.SIGKILL)
        took_over_in = await until(lambda: standby.role == "leader", TAKEOVER_LIMIT_S)
        print(f"standby leader {took_over_in:.2f} s after kill -9 of the leader")
        await until(lambda: job.started == 1, 5)
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
        await standby.stop()
        await leases.close()


async def test_in_memory_sqlite_always_leads() -> None:
    leases = open_leases("sqlite+aiosqlite:///:memory:")
    runner = LeaderJob("mailbox/x", leases, Job(), retry_s=0.1, heartbeat_s=0.1)
    runner.start()
    try:
        await until(lambda: runner.role == "leader", 5)
    finally:
        await runner.stop()


async def test_health_reports_each_job_role_and_a_standby_passes_its_check() -> None:
    import httpx
    from prometheus_client import CollectorRegistry

    from priyom_kit import Bus, ServiceParts, ServiceSettings, build_app

    leases = open_leases("sqlite+aiosqlite:///:memory:")
    polling = LeaderJob("intake-messenger/telegram/4242", leases, Job())

    async def never_polled() -> bool:
        return False

    settings = ServiceSettings(AMQP_URL="amqp://guest:guest@127.0.0.1:1/")
    parts = ServiceParts(name="lease-test", title="lease test", settings=settings,
                         bus=Bus(settings, "lease-test", CollectorRegistry()), registry=CollectorRegistry(),
                         checks={"telegram_polling": polling.healthy_when(never_polled)}, leader_jobs=[polling])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(parts)), base_url="http://t") as client:
        standby = (await client.get("/health")).json()
        polling.role = "leader"  # as if won: now the job's own check counts
        leader = (await client.get("/health")).json()
    assert standby["jobs"] == {"intake-messenger/telegram/4242": "standby"}
    assert standby["checks"]["telegram_polling"] is True
    assert leader["jobs"] == {"intake-messenger/telegram/4242": "leader"}
    assert leader["checks"]["telegram_polling"] is False


async def test_a_new_leader_passes_its_check_from_the_first_look() -> None:
    """A probe looked between "leader" and the job's first step: a poller not yet started, so a takeover made
    the new leader unhealthy for a moment (seen in CI). Until its job has taken that step, a leader passes."""
    leases = open_leases("sqlite+aiosqlite:///:memory:")
    started = False

    async def job() -> None:
        nonlocal started
        started = True  # what the job's check reads, set as it starts (the Telegram poller's start time)
        await asyncio.Event().wait()

    async def check() -> bool:
        return started

    runner = LeaderJob("intake-messenger/telegram/4243", leases, job, retry_s=0.1, heartbeat_s=0.1)
    probe = runner.healthy_when(check)
    runner.start()
    looks: list[tuple[str, bool]] = []
    try:
        for _ in range(500):
            looks.append((runner.role, await probe()))
            if runner.role == "leader" and len(looks) > 50:
                break
            await asyncio.sleep(0)
    finally:
        await runner.stop()
    assert ("leader", True) in looks
    assert all(healthy for _, healthy in looks), looks
