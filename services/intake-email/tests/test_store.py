"""The checkpoints and sent replies on both databases (SQLite embedded, PostgreSQL in production)."""

from __future__ import annotations

import asyncio
import uuid

from priyom_intake_email.store import Checkpoint, SentReplies, migrate_database, open_checkpoints
from priyom_kit.db import Database


async def test_checkpoints_and_sent_replies_upsert(database_url: str) -> None:
    await asyncio.to_thread(migrate_database, database_url)  # Alembic runs its own loop
    async with open_checkpoints(database_url) as checkpoints:
        assert await checkpoints.load("support") is None
        await checkpoints.save("support", Checkpoint(uidvalidity=1795609805, last_uid=100))
        await checkpoints.save("support", Checkpoint(uidvalidity=1795609805, last_uid=150))
        await checkpoints.save("sales", Checkpoint(uidvalidity=7, last_uid=3))
        assert await checkpoints.load("support") == Checkpoint(1795609805, 150)
        assert await checkpoints.load("sales") == Checkpoint(7, 3)
    database = Database(database_url)
    await database.open()
    try:
        sent = SentReplies(database)
        reply_id = uuid.uuid4()
        assert await sent.message_id(reply_id) is None
        await sent.record(reply_id, f"reply.{reply_id}@priyom.local")
        await sent.record(reply_id, f"reply.{reply_id}@priyom.local")  # a redelivery records nothing new
        assert await sent.message_id(reply_id) == f"reply.{reply_id}@priyom.local"
    finally:
        await database.close()


async def test_ingested_keys_are_recorded_with_the_checkpoint(database_url: str) -> None:
    await asyncio.to_thread(migrate_database, database_url)
    async with open_checkpoints(database_url) as checkpoints:
        key = "email:<a@example.org>#0123456789abcdef"
        await checkpoints.save("support", Checkpoint(5, 10, rematch_until=40),
                               [(key, "<a@example.org>"), ("raw:sha256:" + "0" * 64, None), (key, "<a@example.org>")])
        await checkpoints.save("support", Checkpoint(5, 11, rematch_until=40), [(key, "<a@example.org>")])  # again
        assert await checkpoints.load("support") == Checkpoint(5, 11, 40)
        assert await checkpoints.ingested("support", key)
        assert await checkpoints.ingested("support", "raw:sha256:" + "0" * 64)
        assert not await checkpoints.ingested("sales", key)  # per mailbox
        assert not await checkpoints.ingested("support", "email:<a@example.org>#fedcba9876543210")  # reused id
