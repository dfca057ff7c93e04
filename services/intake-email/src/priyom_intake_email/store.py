"""What intake-email keeps: per IMAP mailbox the UIDVALIDITY and the last UID whose publish the broker
confirmed, and the replies already sent (so a redelivered reply is not mailed twice)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import BigInteger, Column, String, Table, Uuid, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from priyom_kit.db import Database, UtcDateTime, make_metadata, upgrade_database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_intake_email"

metadata = make_metadata()

checkpoints = Table(
    "imap_checkpoints",
    metadata,
    Column("mailbox", String(64), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

sent_replies = Table(
    "sent_replies",
    metadata,
    Column("reply_id", Uuid, primary_key=True),
    Column("message_id", String(998), nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
)


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (``python -m priyom_intake_email migrate``)."""
    upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)


@dataclass(frozen=True)
class Checkpoint:
    uidvalidity: int
    last_uid: int


def _upsert(database: Database, table: Table, values: dict[str, object], key: str):  # type: ignore[no-untyped-def]
    dialect = pg_insert if database.url.startswith("postgresql") else sqlite_insert
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
        return Checkpoint(row.uidvalidity, row.last_uid) if row else None

    async def save(self, mailbox: str, checkpoint: Checkpoint) -> None:
        values = {"mailbox": mailbox, "uidvalidity": checkpoint.uidvalidity, "last_uid": checkpoint.last_uid,
                  "updated_at": datetime.now(UTC)}
        async with self.database.sessions.begin() as session:
            await session.execute(_upsert(self.database, checkpoints, values, "mailbox"))


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
async def open_checkpoints(url: str) -> AsyncIterator[Checkpoints]:
    """The checkpoints of a database outside the running service (tests, the benchmark, operators)."""
    database = Database(url)
    await database.open()
    try:
        yield Checkpoints(database)
    finally:
        await database.close()
