"""Retention prunes what is older than its rule allows, in batches, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, Table, select

from priyom_kit.db import Database, inbox_table, make_metadata
from priyom_kit.retention import RetentionRule, RetentionSweep, prune


async def test_expired_rows_go_in_batches_and_the_rest_stay(database_url: str) -> None:
    metadata = make_metadata()
    inbox = inbox_table(metadata, "test_inbox")
    outbox = Table("test_outbox", metadata, Column("id", Integer, primary_key=True),
                   Column("created_at", DateTime(timezone=True), nullable=False),
                   Column("published_at", DateTime(timezone=True)))
    database = Database(database_url)
    await database.open()
    try:
        async with database.sessions() as session:
            await session.run_sync(lambda s: metadata.create_all(s.connection()))
            await session.commit()
        now = datetime.now(UTC)
        old, new = now - timedelta(days=40), now - timedelta(days=1)
        async with database.sessions() as session, session.begin():
            await session.execute(inbox.insert(), [{"consumer": "c", "key": f"k{i}", "outcome": {},
                                                    "processed_at": old if i < 7 else new} for i in range(10)])
            await session.execute(outbox.insert(), [{"id": i, "created_at": old, "published_at": old if i else None}
                                                    for i in range(3)])
        rule = RetentionRule(inbox, "processed_at", timedelta(days=30))
        assert await prune(lambda: database.sessions(), rule, now, batch=3) == 7
        sweep = RetentionSweep("test", lambda: database.sessions(), [rule, RetentionRule(
            outbox, "created_at", timedelta(days=7), only=lambda t: t.c.published_at.is_not(None))])
        assert await sweep.sweep() == {"test_inbox": 0, "test_outbox": 2}
        async with database.sessions() as session:
            keys = sorted((await session.execute(select(inbox.c.key))).scalars())
            unsent = list((await session.execute(select(outbox.c.id))).scalars())
        assert keys == ["k7", "k8", "k9"] and unsent == [0], "the unsent event stays whatever its age"
    finally:
        await database.close()

