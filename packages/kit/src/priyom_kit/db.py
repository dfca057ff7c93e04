"""Storage helpers every data-owning service uses: the engine, the idempotent inbox, and migrations.

SQLite (aiosqlite) is the embedded default and PostgreSQL (asyncpg) the production database; both are
first-class, so everything here uses only what both dialects support.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator

from priyom_contracts import to_utc

from . import json_codec
from .driver_statements import any_of

#: Named constraints: Alembic's batch mode on SQLite can only alter constraints it can name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: A database URL as the settings hold it (a secret: it may carry the password) or as a test spells it.
DatabaseUrl = str | SecretStr


def plain_url(url: DatabaseUrl) -> str:
    """The URL itself, for SQLAlchemy, Alembic or a driver: the one place a database URL is unwrapped."""
    return url.get_secret_value() if isinstance(url, SecretStr) else url


def make_metadata() -> MetaData:
    """The metadata every data-owning service declares its tables on."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTimeColumn(TypeDecorator[datetime]):
    """The column type of :data:`priyom_contracts.UtcDateTime`: aware UTC in, aware UTC out, on both databases
    (SQLite keeps no offset and returns naive values, which were stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every timestamp Priyom stores is aware")
        return to_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return to_utc(value.replace(tzinfo=UTC) if value.tzinfo is None else value)



def make_engine(url: DatabaseUrl, **kwargs: Any) -> AsyncEngine:
    """An async engine; for SQLite it turns on WAL, a busy timeout and foreign keys on every connection. JSON
    columns go through :mod:`.json_codec` (orjson) on both dialects."""
    url = plain_url(url)
    kwargs.setdefault("json_serializer", json_codec.dumps)
    kwargs.setdefault("json_deserializer", json_codec.loads)
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
    # Up to 20 connections, as before (10 kept and 10 overflow), but all kept: an overflow connection was closed
    # as it was given back, so a burst (every delivery of a prefetch with its own transaction) opened and closed
    # connections all along, each one's statements prepared again and its types introspected again.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 0)
    # No pre-ping: it costs a round trip per transaction. A dropped connection fails its transaction, the
    # pool discards it, and the bus retries the message; recycling keeps idle connections fresh.
    kwargs.setdefault("pool_recycle", 1800)
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


class Database:
    """One engine and its session factory for the life of the process, opened when the service starts
    (so nothing connects at import or build time)."""

    def __init__(self, url: DatabaseUrl) -> None:
        self.url = url if isinstance(url, SecretStr) else SecretStr(url)
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._autocommit: AsyncEngine | None = None
        self._reader: AsyncConnection | None = None
        self._reader_lock = asyncio.Lock()

    async def open(self) -> None:
        self._engine = make_engine(self.url)
        self._sessions = make_sessions(self._engine)
        # An option view of the same engine: the same pool, its connections handed out in autocommit.
        self._autocommit = self._engine.execution_options(isolation_level="AUTOCOMMIT")

    async def close(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await reader.close()
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = self._sessions = self._autocommit = None

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``: for the few statements the two dialects spell differently."""
        return make_url(plain_url(self.url)).get_backend_name()

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise RuntimeError("the database is not open: the service has not started")
        return self._sessions

    async def session(self) -> AsyncIterator[AsyncSession]:
        """FastAPI dependency: one session per request, closed (and rolled back) when it ends."""
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[AsyncConnection]:
        """The one connection this process keeps in autocommit for reads that must be quick (a ringing
        phone's pop-up), one reader at a time: no ORM session to build, no BEGIN and ROLLBACK round trips,
        and no pool checkout with its isolation level set and reset, which together cost as much CPU as the
        read itself. Each statement is consistent on its own. A connection that fails is dropped and the
        next read opens another. Writes go through :attr:`sessions`."""
        if self._autocommit is None:
            raise RuntimeError("the database is not open: the service has not started")
        async with self._reader_lock:
            if self._reader is None:
                self._reader = await self._autocommit.connect()
            try:
                yield self._reader
            except BaseException:
                reader, self._reader = self._reader, None
                await reader.close()
                raise

    async def ping(self) -> bool:
        return self._engine is not None and await ping(self._engine)


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
    """Reads and records outcomes in an :func:`inbox_table`, inside the caller's transaction.

    Both statements are built once and executed with parameters: a statement built per call is
    constructed and cache-keyed again every message, which costs more CPU than running it.
    """

    def __init__(self, table: Table, consumer: str) -> None:
        self.table = table
        self.consumer = consumer
        self._recall = select(table.c.outcome).where(
            table.c.consumer == consumer, table.c.key == bindparam("key", type_=table.c.key.type)
        )
        # One statement for any number of keys on PostgreSQL (an IN list's SQL changes with its length, and
        # each length would be prepared again on every connection).
        self._recall_many = {
            postgresql: select(table.c.key, table.c.outcome).where(
                table.c.consumer == consumer, any_of(table.c.key, "keys", "postgresql" if postgresql else "sqlite"))
            for postgresql in (True, False)}
        self._record = {
            "postgresql": pg_insert(table).on_conflict_do_nothing(),
            "sqlite": sqlite_insert(table).on_conflict_do_nothing(),
        }

    async def recall(self, session: AsyncSession, key: str) -> dict[str, Any] | None:
        """The outcome recorded for ``key``, or None when this is the first delivery."""
        row = await session.execute(self._recall, {"key": key})
        return row.scalar_one_or_none()

    async def record(self, session: AsyncSession, key: str, outcome: Mapping[str, Any]) -> bool:
        """Record the outcome; False when a concurrent delivery recorded it first (the caller rolls back)."""
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        result = await session.execute(
            self._record["postgresql" if dialect == "postgresql" else "sqlite"],
            {"consumer": self.consumer, "key": key, "outcome": dict(outcome)},
        )
        return bool(result.rowcount)

    async def batch(self, session: AsyncSession, keys: Iterable[str]) -> InboxBatch:
        """The inbox of a batch's transaction: the outcomes of all ``keys`` read in one statement now, the new
        ones written in one statement by :meth:`InboxBatch.write` before the commit."""
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        rows = await session.execute(self._recall_many[dialect == "postgresql"],
                                     {"keys": list(dict.fromkeys(keys))})
        return InboxBatch(self, {key: outcome for key, outcome in rows})


class InboxRaced(Exception):
    """A concurrent delivery recorded an outcome of the batch first: the caller rolls the batch back."""


class InboxBatch:
    """An :class:`Inbox` as one batch's transaction sees it, with the same ``recall`` and ``record``.

    Statements per delivery are what a batch saves: this reads the batch's keys together and writes its
    outcomes together, instead of two statements a delivery. A key repeated within the batch recalls the
    outcome its first delivery recorded, as it would one transaction later. A key that another transaction
    recorded meanwhile makes :meth:`write` raise :class:`InboxRaced`, the batch's equivalent of ``record``
    returning False: the batch rolls back and its deliveries are handled one at a time, where the race is
    answered.
    """

    def __init__(self, inbox: Inbox, recalled: dict[str, Any]) -> None:
        self._inbox = inbox
        self._known = recalled
        self._new: dict[str, dict[str, Any]] = {}

    async def recall(self, session: AsyncSession, key: str) -> dict[str, Any] | None:
        return self._known.get(key)

    async def record(self, session: AsyncSession, key: str, outcome: Mapping[str, Any]) -> bool:
        if key in self._known:
            return False
        self._known[key] = self._new[key] = dict(outcome)
        return True

    async def write(self, session: AsyncSession) -> None:
        """Write the outcomes recorded in the batch, in the caller's transaction (before its commit)."""
        if not self._new:
            return
        inbox = self._inbox
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        statement = inbox._record["postgresql" if dialect == "postgresql" else "sqlite"]
        written = await session.execute(
            statement.returning(inbox.table.c.key),
            [{"consumer": inbox.consumer, "key": key, "outcome": outcome} for key, outcome in self._new.items()])
        missing = len(self._new) - len(written.all())
        if missing:
            raise InboxRaced(f"{missing} of the batch's outcomes recorded by another delivery first")
        self._new.clear()


def upgrade_database(migrations_dir: Path, url: DatabaseUrl, version_table: str) -> None:
    """Run the service's Alembic migrations to head (used by ``python -m priyom_<svc> migrate`` and tests)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", plain_url(url).replace("%", "%%"))
    config.attributes["version_table"] = version_table
    command.upgrade(config, "head")
