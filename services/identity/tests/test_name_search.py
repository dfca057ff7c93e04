"""Searching cards by name on both databases: a substring everywhere; on PostgreSQL with pg_trgm also a close
spelling, best first, answered from the trigram index of migration 0004."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from priyom_identity.cards import NewClient
from priyom_identity.identify import register_card
from priyom_identity.policy import MatchPolicy
from priyom_identity.store import search, trigram_available
from priyom_kit.db import Database

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
