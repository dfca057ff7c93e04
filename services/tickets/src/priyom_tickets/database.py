"""The service's database handle: opened when the service starts, so nothing connects at import or build."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from priyom_kit import db


class Database:
    """One engine and its session factory for the life of the process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    async def open(self) -> None:
        self._engine = db.make_engine(self.url)
        self._sessions = db.make_sessions(self._engine)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = self._sessions = None

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise RuntimeError("the database is not open: the service has not started")
        return self._sessions

    async def session(self) -> AsyncIterator[AsyncSession]:
        """FastAPI dependency: one session per request, closed (and rolled back) when it ends."""
        async with self.sessions() as session:
            yield session

    async def ping(self) -> bool:
        return self._engine is not None and await db.ping(self._engine)
