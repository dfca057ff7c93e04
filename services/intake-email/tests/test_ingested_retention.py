"""Retention of the ingested IMAP keys on both databases: rows older than the retention go (in batches), recent
ones stay and still re-match; the running service prunes at start."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from priyom_intake_email.app import create_app
from priyom_intake_email.imap.ingested_sweep import IngestedSweep
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_intake_email.store import (
    Checkpoint,
    Checkpoints,
    imap_ingested,
    key_digest,
    migrate_database,
    open_checkpoints,
)
from priyom_testing.apps import started


async def age(checkpoints: Checkpoints, keys: list[str], days: float) -> None:
    """Make these keys look recorded ``days`` ago."""
    async with checkpoints.database.sessions.begin() as session:
        await session.execute(update(imap_ingested).where(imap_ingested.c.key_digest.in_(
            [key_digest(k) for k in keys])).values(ingested_at=datetime.now(UTC) - timedelta(days=days)))


async def rows(checkpoints: Checkpoints) -> int:
    async with checkpoints.database.sessions() as session:
        return (await session.execute(select(func.count()).select_from(imap_ingested))).scalar_one()


async def test_old_ingested_keys_go_and_recent_ones_stay(database_url: str) -> None:
    await asyncio.to_thread(migrate_database, database_url)
    old = [f"email:<old-{i}@example.org>#{i:016x}" for i in range(23)]
    recent = [f"email:<new-{i}@example.org>#{i:016x}" for i in range(5)]
    async with open_checkpoints(database_url) as checkpoints:
        await checkpoints.save("support", Checkpoint(5, 30), [(k, None) for k in old[:20] + recent])
        await checkpoints.save("sales", Checkpoint(9, 3), [(k, None) for k in old[20:]])
        await age(checkpoints, old, days=200)
        await age(checkpoints, recent[:2], days=179)  # inside the retention, if only just
        sweep = IngestedSweep(checkpoints, timedelta(days=180))
        assert await checkpoints.forget_ingested_before(datetime.now(UTC) - timedelta(days=180), batch=4) == 23
        assert await rows(checkpoints) == len(recent)
        assert all([await checkpoints.ingested("support", k) for k in recent])
        assert not any([await checkpoints.ingested("support", k) for k in old[:20]])
        assert not any([await checkpoints.ingested("sales", k) for k in old[20:]])
        assert await sweep.sweep() == 0  # nothing more to drop
        assert await checkpoints.load("support") == Checkpoint(5, 30)  # checkpoints are not touched


async def test_the_service_prunes_at_start(settings: IntakeEmailSettings) -> None:
    old, recent = "email:<old@example.org>#00000000000000aa", "email:<new@example.org>#00000000000000bb"
    async with open_checkpoints(settings.database_url) as checkpoints:
        await checkpoints.save("support", Checkpoint(5, 2), [(old, None), (recent, None)])
        await age(checkpoints, [old], days=31)
    async with started(create_app(settings.model_copy(update={"imap_ingested_retention_days": 30}))):
        async with open_checkpoints(settings.database_url) as checkpoints:
            for _ in range(100):
                if not await checkpoints.ingested("support", old):
                    break
                await asyncio.sleep(0.05)
            assert not await checkpoints.ingested("support", old)
            assert await checkpoints.ingested("support", recent)
