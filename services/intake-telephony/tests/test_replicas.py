"""Two replicas of intake-telephony on one PBX (issue 18): one AMI session, held by the replica holding the
PBX's lease; the other stands by (ready, its /health says so) and logs in once the first stops."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from priyom_testing.ami_server import FakeAmiServer

from .conftest import migrated_sqlite, started, telephony_settings


async def test_one_ami_session_per_pbx_and_the_standby_takes_over(
        ami: FakeAmiServer, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> None:
    database_url = await asyncio.to_thread(migrated_sqlite, tmp_path)  # one database: one lease file
    settings = telephony_settings(amqp_url, cleanup_bus, ami, database_url)
    job = f"intake-telephony/ami/127.0.0.1:{ami.port}"

    async def role_of(service) -> str:  # type: ignore[no-untyped-def]
        health = await service.client.get("/health")
        assert health.status_code == 200, health.text
        return health.json()["jobs"][job]

    async with contextlib.AsyncExitStack() as first_stack:
        first = await first_stack.enter_async_context(contextlib.asynccontextmanager(started)(
            settings, amqp_url, cleanup_bus))
        await ami.wait_for_login()
        second_cm = contextlib.asynccontextmanager(started)(settings, amqp_url, cleanup_bus)
        async with second_cm as second:
            await asyncio.sleep(2.0)  # several lease retries of the second replica
            assert ami.logins == 1
            assert ami.clients == 1
            assert await role_of(first) == "leader"
            assert await role_of(second) == "standby"

            await first_stack.aclose()
            loop = asyncio.get_running_loop()
            stopped_at = loop.time()
            await ami.wait_for_login(2, timeout=15)
            print(f"standby logged in to AMI {loop.time() - stopped_at:.2f} s after the leader stopped")
            assert await role_of(second) == "leader"
            assert ami.clients == 1
            assert (await second.client.get("/health")).json()["checks"]["ami"] is True
