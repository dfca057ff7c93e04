"""The database side of the telephony lookup: identifier in, card summary out, as cheaply as possible.

On PostgreSQL the lookup runs on its own small asyncpg pool with one fixed statement, which asyncpg
prepares once per connection: measured here, a lookup cost 49 µs of CPU that way against 167 µs through an
SQLAlchemy session (the session, its transaction and the result machinery are most of the bill for a
one-row read). The pool is also separate from the one the consumers and the API use, so a burst of
contacts cannot queue a ringing phone's lookup behind it. SQLite, the embedded single-node setup, keeps the
ordinary session path: there is no network round trip to save.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_kit.db import DatabaseUrl, plain_url

from .. import store
from ..matching import Identifier
from ..tables import clients, identifiers
from .cache import Key, LookupHit

#: Connections of the lookup pool: lookups are one short query each, a few connections keep up with many.
POOL_SIZE = 4

# Written out rather than compiled from SQLAlchemy so asyncpg can prepare it once; ``tests`` check it
# returns what :func:`store.lookup_hits` returns. ``unnest`` pairs the kinds and values: one statement for
# one identifier or three, each pair found through ``uq_identifiers_kind_value``. Verified identifiers
# only: a claim (claims.py) must never fill a caller's pop-up.
LOOKUP_SQL = f"""
SELECT i.kind, i.value, i.client_id, i.person_id, c.name, c.kind AS client_kind, c.account_manager, c.sla_tier
FROM unnest($1::text[], $2::text[]) AS w(kind, value)
JOIN {identifiers.name} i ON i.kind = w.kind AND i.value = w.value
JOIN {clients.name} c ON c.id = i.client_id
WHERE i.verified
"""


class LookupReader(Protocol):
    """Finds the card behind each identifier; ``open`` at service start, ``close`` at stop."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def hits(self, wanted: Sequence[Identifier]) -> dict[Key, LookupHit]: ...


class SessionLookupReader:
    """Through the service's SQLAlchemy sessions (SQLite, or any database without a faster path)."""

    def __init__(self, new_session: Callable[[], AsyncSession]) -> None:
        self._new_session = new_session

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def hits(self, wanted: Sequence[Identifier]) -> dict[Key, LookupHit]:
        async with self._new_session() as session:
            # One statement, nothing to make atomic: autocommit spares the BEGIN and ROLLBACK round trips.
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            return await store.lookup_hits(session, wanted)


class PostgresLookupReader:
    """A dedicated asyncpg pool and one prepared statement (see the module docstring for why)."""

    def __init__(self, database_url: DatabaseUrl, pool_size: int = POOL_SIZE) -> None:
        url = make_url(plain_url(database_url)).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self._pool_size,
                                               reset=_nothing_to_reset)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        self._pool = None

    async def hits(self, wanted: Sequence[Identifier]) -> dict[Key, LookupHit]:
        if self._pool is None:
            raise RuntimeError("the lookup pool is not open: the service has not started")
        if not wanted:
            return {}
        rows = await self._pool.fetch(LOOKUP_SQL, [i.kind for i in wanted], [i.value for i in wanted])
        return {(r["kind"], r["value"]): LookupHit(
            r["client_id"], r["person_id"], r["name"], r["account_manager"], r["sla_tier"],
            r["name"] if r["client_kind"] == "org" else None) for r in rows}


async def _nothing_to_reset(_: asyncpg.Connection) -> None:
    """asyncpg resets a connection on its way back to the pool with a query of its own (advisory locks,
    cursors, LISTEN, settings): a second round trip per lookup. These connections run one read-only
    statement outside any transaction, so they leave nothing to reset."""


def lookup_reader(database_url: DatabaseUrl, new_session: Callable[[], AsyncSession]) -> LookupReader:
    """The fastest reader for ``database_url``; ``new_session`` opens a session of the service's database."""
    if make_url(plain_url(database_url)).get_backend_name() == "postgresql":
        return PostgresLookupReader(database_url)
    return SessionLookupReader(new_session)
