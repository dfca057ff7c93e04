"""Searching cards by name on both databases: a substring everywhere; on PostgreSQL with pg_trgm also a close
spelling, best first, answered from the trigram index of migration 0004."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from sqlalchemy import text

from priyom_identity.cards import NewClient
from priyom_identity.identify import register_card
from priyom_identity.policy import MatchPolicy
from priyom_identity.store import migrate_database, search, trigram_available
from priyom_kit.db import Database
from priyom_kit.pytest_plugin import pg_admin_url

POLICY = MatchPolicy(region="RU")
NAMES = ("ООО Ромашка", "АО Ромашка-Сервис", "ИП Васильков Сергей", "Lilac Trading LLC")


async def seed(database: Database) -> dict[str, uuid.UUID]:
    ids = {}
    async with database.sessions() as session, session.begin():
        for name in NAMES:
            ids[name] = await register_card(session, NewClient(name=name), POLICY)
    return ids


async def names(database: Database, query: str, **kw: object) -> list[str]:
    async with database.sessions() as session:
        trigram = await trigram_available(session)
        hits = await search(session, name=query, phone_digits=None, limit=10,
                            trigram=kw.get("trigram", trigram))  # type: ignore[arg-type]
    return [h.name for h in hits]


async def test_a_fragment_finds_the_name_on_both_databases(database: Database) -> None:
    await seed(database)
    assert set(await names(database, "ромашк")) == {"ООО Ромашка", "АО Ромашка-Сервис"}
    assert await names(database, "LILAC") == ["Lilac Trading LLC"]
    assert await names(database, "%") == [], "wildcards are searched literally"


async def test_a_misspelt_name_is_found_on_postgresql_and_only_by_substring_elsewhere(
        database: Database, database_url: str) -> None:
    await seed(database)
    async with database.sessions() as session:
        trigram = await trigram_available(session)
    assert trigram is database_url.startswith("postgresql"), "the test role may create pg_trgm here"
    misspelt = await names(database, "Ромашко")
    if trigram:
        assert set(misspelt) == {"ООО Ромашка", "АО Ромашка-Сервис"}, "close names only"
        assert await names(database, "Василков") == ["ИП Васильков Сергей"]  # one letter dropped
        assert await names(database, "Ромашка Сервис") == ["АО Ромашка-Сервис", "ООО Ромашка"], "best first"
        # Without the extension (a role that could not create it) the same call is a plain substring search.
        assert await names(database, "Ромашко", trigram=False) == []
    else:
        assert misspelt == []


async def test_postgresql_answers_name_search_from_the_trigram_index(database: Database,
                                                                      database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        return  # SQLite scans, which suits the embedded sizes it serves
    async with database.sessions() as session, session.begin():
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join((await session.execute(text(
            "EXPLAIN SELECT id FROM clients WHERE search_name LIKE '%ромаш%' OR 'ромашко' <% search_name")
        )).scalars())
    assert "ix_clients_search_name_trgm" in plan, plan


async def test_a_role_that_may_not_create_pg_trgm_still_migrates_and_searches(database_url: str) -> None:
    """As tickets' 0007: the migration warns and skips the index; search is the plain substring one."""
    if not database_url.startswith("postgresql"):
        return  # the extension is PostgreSQL's
    role = f"priyom_r_{uuid.uuid4().hex[:10]}"
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg_admin_url())
    try:
        # May log in and create tables, but not create anything in the database itself (so no extension).
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
        owner = await asyncpg.connect(pg_admin_url().rsplit("/", 1)[0] + f"/{name}")
        try:
            await owner.execute(f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"')
        finally:
            await owner.close()
        url = database_url.replace("://postgres@", f"://{role}@", 1)
        assert url != database_url, "the test expects the admin URL to name the postgres role"
        await asyncio.to_thread(migrate_database, url)
        database = Database(url)
        await database.open()
        try:
            await seed(database)
            async with database.sessions() as session:
                assert await trigram_available(session) is False
                index = (await session.execute(text(
                    "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_clients_search_name_trgm'"))).scalar_one()
            assert index == 0
            assert set(await names(database, "ромашк")) == {"ООО Ромашка", "АО Ромашка-Сервис"}
            assert await names(database, "Ромашко") == []
        finally:
            await database.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # it holds the role's tables
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await admin.close()
