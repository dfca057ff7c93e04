"""What intake-email keeps: per IMAP mailbox the UIDVALIDITY and the last UID whose publish the broker
confirmed, and the replies already sent (so a redelivered reply is not mailed twice)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import BigInteger, Column, Index, String, Table, Uuid, delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from priyom_kit.db import Database, DatabaseUrl, UtcDateTimeColumn, make_metadata, upgrade_database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_intake_email"

metadata = make_metadata()

checkpoints = Table(
    "imap_checkpoints",
    metadata,
    Column("mailbox", String(64), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
    Column("updated_at", UtcDateTimeColumn, nullable=False),
    # After a UIDVALIDITY change, messages up to this UID may be mail already published: they are matched
    # against imap_ingested before publishing. Kept here so a crash in the middle still re-matches.
    Column("rematch_until", BigInteger, nullable=False, server_default="0"),
)

#: Every mail a mailbox published (or dead-lettered), by a digest of its idempotency key: after a UIDVALIDITY
#: change (a recreated or migrated mailbox) the same mail is recognised instead of published again.
imap_ingested = Table(
    "imap_ingested",
    metadata,
    Column("mailbox", String(64), primary_key=True),
    Column("key_digest", String(64), primary_key=True),
    Column("message_id", String(998), nullable=True),
    Column("ingested_at", UtcDateTimeColumn, nullable=False),
    # Rows older than INTAKE_EMAIL_IMAP_INGESTED_RETENTION_DAYS are pruned by this (migration 0003).
    Index("ix_imap_ingested_ingested_at", "ingested_at"),
)

sent_replies = Table(
    "sent_replies",
    metadata,
    Column("reply_id", Uuid, primary_key=True),
    Column("message_id", String(998), nullable=False),
    Column("sent_at", UtcDateTimeColumn, nullable=False),
)


def migrate_database(url: DatabaseUrl) -> None:
    """Bring the database at ``url`` to the newest schema (``python -m priyom_intake_email migrate``)."""
    upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)


@dataclass(frozen=True)
class Checkpoint:
    uidvalidity: int
    last_uid: int
    rematch_until: int = 0


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def _upsert(database: Database, table: Table, values: dict[str, object], key: str):  # type: ignore[no-untyped-def]
    dialect = pg_insert if database.backend == "postgresql" else sqlite_insert
    statement = dialect(table).values(**values)
    return statement.on_conflict_do_update(index_elements=[key],
                                           set_={k: v for k, v in values.items() if k != key})


class Checkpoints:
    """The IMAP checkpoints, one row per mailbox."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def load(self, mailbox: str) -> Checkpoint | None:
        async with self.database.sessions() as session:
            row = (await session.execute(select(checkpoints).where(checkpoints.c.mailbox == mailbox))).first()
        return Checkpoint(row.uidvalidity, row.last_uid, row.rematch_until) if row else None

    async def save(self, mailbox: str, checkpoint: Checkpoint,
                   ingested: Sequence[tuple[str, str | None]] = ()) -> None:
        """Move the checkpoint and record the ``(key, Message-ID)`` of the mail it passed, in one transaction."""
        values = {"mailbox": mailbox, "uidvalidity": checkpoint.uidvalidity, "last_uid": checkpoint.last_uid,
                  "rematch_until": checkpoint.rematch_until, "updated_at": datetime.now(UTC)}
        now = datetime.now(UTC)
        rows = list({key_digest(key): {"mailbox": mailbox, "key_digest": key_digest(key),
                                       "message_id": message_id[:998] if message_id else None, "ingested_at": now}
                     for key, message_id in ingested}.values())
        async with self.database.sessions.begin() as session:
            await session.execute(_upsert(self.database, checkpoints, values, "mailbox"))
            if rows:
                dialect = pg_insert if self.database.backend == "postgresql" else sqlite_insert
                await session.execute(dialect(imap_ingested).on_conflict_do_nothing(), rows)

    async def ingested(self, mailbox: str, key: str) -> bool:
        """Whether this mailbox already published (or dead-lettered) the mail with this key."""
        async with self.database.sessions() as session:
            row = (await session.execute(select(imap_ingested.c.key_digest).where(
                imap_ingested.c.mailbox == mailbox, imap_ingested.c.key_digest == key_digest(key)))).first()
        return row is not None

    async def forget_ingested_before(self, cutoff: datetime, batch: int = 500) -> int:
        """Drop the ingested keys recorded before ``cutoff``, ``batch`` rows per transaction so a long backlog
        never holds a lock the readers' checkpoint saves wait on; how many went."""
        dropped = 0
        while True:
            oldest = (select(imap_ingested.c.mailbox, imap_ingested.c.key_digest)
                      .where(imap_ingested.c.ingested_at < cutoff).limit(batch))
            async with self.database.sessions.begin() as session:
                result = await session.execute(delete(imap_ingested).where(
                    tuple_(imap_ingested.c.mailbox, imap_ingested.c.key_digest).in_(oldest)))
            count = result.rowcount or 0  # type: ignore[attr-defined]
            dropped += count
            if count < batch:
                return dropped
            await asyncio.sleep(0)  # let the service's other work in between batches


class SentReplies:
    """Replies already handed to the relay, by reply id."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def message_id(self, reply_id: uuid.UUID) -> str | None:
        async with self.database.sessions() as session:
            row = (await session.execute(
                select(sent_replies.c.message_id).where(sent_replies.c.reply_id == reply_id))).first()
        return row.message_id if row else None

    async def record(self, reply_id: uuid.UUID, message_id: str) -> None:
        values = {"reply_id": reply_id, "message_id": message_id, "sent_at": datetime.now(UTC)}
        async with self.database.sessions.begin() as session:
            await session.execute(_upsert(self.database, sent_replies, values, "reply_id"))


@asynccontextmanager
async def open_checkpoints(url: DatabaseUrl) -> AsyncIterator[Checkpoints]:
    """The checkpoints of a database outside the running service (tests, the benchmark, operators)."""
    database = Database(url)
    await database.open()
    try:
        yield Checkpoints(database)
    finally:
        await database.close()
