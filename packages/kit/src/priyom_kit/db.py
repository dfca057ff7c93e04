"""Storage helpers every data-owning service uses: the engine, the idempotent inbox, and migrations.

SQLite (aiosqlite) is the embedded default and PostgreSQL (asyncpg) the production database; both are
first-class, so everything here uses only what both dialects support.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, event, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; for SQLite it turns on WAL, a busy timeout and foreign keys on every connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> bool:
    """Readiness: can we run a query now?"""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready", which is the answer
        return False


def inbox_table(metadata: MetaData, name: str) -> Table:
    """The idempotent-consumer table: one row per processed idempotency key, with its outcome.

    Keeping the outcome (the message we published) lets a redelivery, after a crash between commit and
    publish, publish the same outcome again instead of being silently dropped as a duplicate.
    """
    return Table(
        name,
        metadata,
        Column("consumer", String(64), primary_key=True),
        Column("key", String(512), primary_key=True),
        Column("outcome", JSON, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class Inbox:
    """Reads and records outcomes in an :func:`inbox_table`, inside the caller's transaction."""

    def __init__(self, table: Table, consumer: str) -> None:
        self.table = table
        self.consumer = consumer

    async def recall(self, session: AsyncSession, key: str) -> dict[str, Any] | None:
        """The outcome recorded for ``key``, or None when this is the first delivery."""
        row = await session.execute(
            select(self.table.c.outcome).where(
                self.table.c.consumer == self.consumer, self.table.c.key == key
            )
        )
        return row.scalar_one_or_none()

    async def record(self, session: AsyncSession, key: str, outcome: Mapping[str, Any]) -> bool:
        """Record the outcome; False when a concurrent delivery recorded it first (the caller rolls back)."""
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        result = await session.execute(
            insert(self.table)
            .values(consumer=self.consumer, key=key, outcome=dict(outcome))
            .on_conflict_do_nothing()
        )
        return bool(result.rowcount)


def upgrade_database(migrations_dir: Path, url: str, version_table: str) -> None:
    """Run the service's Alembic migrations to head (used by ``python -m priyom_<svc> migrate`` and tests)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["version_table"] = version_table
    command.upgrade(config, "head")
