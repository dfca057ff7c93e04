"""The checkpoints and sent replies on both databases (SQLite embedded, PostgreSQL in production)."""

from __future__ import annotations

import asyncio
import uuid

from priyom_intake_email.store import Checkpoint, SentReplies, migrate, open_checkpoints
from priyom_kit.db import Database


async def test_checkpoints_and_sent_replies_upsert(database_url: str) -> None:
    await asyncio.to_thread(migrate, database_url)  # Alembic runs its own loop
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
