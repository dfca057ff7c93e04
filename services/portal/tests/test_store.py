"""The migrations build exactly the tables the code declares (SQLite and PostgreSQL), the full-text index
of each database aside: it is made by migration 0001 alone, per dialect (priyom_portal.tables)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from priyom_kit.db import Database
from priyom_kit.testing import migrated_database
from priyom_portal import store
from priyom_portal.tables import metadata

#: The index's own objects: FTS5's table and its shadow tables, PostgreSQL's column and GIN index.
INDEX_OBJECTS = ("kb_fts", "search_vector", "ix_kb_articles_search_vector")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    async with migrated_database(database_url, store.migrate_database) as db:
        yield db


def _compared(name: str | None, kind: str, _: object) -> bool:
    return name != store.VERSION_TABLE and not (name or "").startswith(INDEX_OBJECTS)


async def test_migrations_match_the_tables(database: Database) -> None:
    async with database.sessions() as session:
        conn = await session.connection()
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True, "include_name": _compared}),
                metadata,
            )
        )
    assert diff == []
