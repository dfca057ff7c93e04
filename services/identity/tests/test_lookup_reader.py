"""The lookup's database path on both databases: the fast reader answers what the store's query answers,
and on PostgreSQL it finds each identifier through the unique index, never by scanning."""

from __future__ import annotations

import uuid

import asyncpg
from sqlalchemy import text

from priyom_contracts import ClientLookupReply
from priyom_identity.cards import NewClient, NewPerson
from priyom_identity.handlers import on_lookup_request
from priyom_identity.identify import register_card
from priyom_identity.lookup.cache import LookupCache
from priyom_identity.lookup.client_lookup import ClientLookup
from priyom_identity.lookup.reader import LOOKUP_SQL, PostgresLookupReader, lookup_reader
from priyom_identity.matching import EMAIL, PHONE, Identifier
from priyom_identity.policy import MatchPolicy
from priyom_identity.store import lookup_hits
from priyom_kit.db import Database
from priyom_kit.pytest_plugin import pg_admin_url

from .conftest import unique_email

POLICY = MatchPolicy(region="RU")


async def test_reader_answers_what_the_store_answers(database: Database, database_url: str) -> None:
    email = unique_email()
    async with database.sessions() as session, session.begin():
        org_id = await register_card(session, NewClient(
            name="ООО Луч", account_manager="Иванова", sla_tier="gold",
            persons=[NewPerson(full_name="Ольга Лучева", phones=["+7 916 740-00-01"], emails=[email])]), POLICY)
        person_id = await register_card(session, NewClient(name="Иван Частный", kind="person",
                                                           phones=["+7 916 740-00-02"]), POLICY)
    wanted = [Identifier(PHONE, "+79167400001", "x"), Identifier(EMAIL, email, email),
              Identifier(PHONE, "+79167400002", "x"), Identifier(PHONE, "+79167409999", "nobody")]
    reader = lookup_reader(database_url, lambda: database.sessions())
    await reader.open()
    try:
        hits = await reader.hits(wanted)
        assert await reader.hits([wanted[0]]) == {wanted[0].key: hits[wanted[0].key]}
        assert await reader.hits([]) == {}
    finally:
        await reader.close()
    async with database.sessions() as session:
        assert hits == await lookup_hits(session, wanted)
    assert set(hits) == {w.key for w in wanted[:3]}
    by_phone = hits[(PHONE, "+79167400001")]
    assert (by_phone.client_id, by_phone.display_name, by_phone.organisation, by_phone.account_manager,
            by_phone.sla_tier) == (org_id, "ООО Луч", "ООО Луч", "Иванова", "gold")
    assert by_phone.person_id is not None and by_phone.person_id == hits[(EMAIL, email)].person_id
    private = hits[(PHONE, "+79167400002")]
    assert private.client_id == person_id and private.organisation is None
    if database_url.startswith("postgresql"):
        assert isinstance(reader, PostgresLookupReader)


async def test_postgres_plan_uses_the_unique_index(database: Database, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        return  # SQLite's reader runs the store's query; its plan is SQLite's business
    async with database.sessions() as session, session.begin():
        # A near-empty table is scanned whatever the query; with scans priced out, the plan shows whether
        # this query's shape can use the index at all (at 1M rows the bench's EXPLAIN shows it does).
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        sql = LOOKUP_SQL.replace("$1::text[]", "ARRAY['phone', 'email']").replace(
            "$2::text[]", f"ARRAY['+79160000000', '{uuid.uuid4().hex}@x.ru']")
        plan = "\n".join((await session.execute(text(f"EXPLAIN {sql}"))).scalars())
    assert "uq_identifiers_kind_value" in plan, plan


async def test_a_lost_database_is_an_answer_not_a_timeout(database: Database,
                                                                     database_url: str) -> None:
    """The PBX gets "lookup unavailable" at once when the database is gone, and once it is back the next
    lookup, on a fresh connection, finds the caller again."""
    if not database_url.startswith("postgresql"):
        return  # SQLite has no connection to lose
    async with database.sessions() as session, session.begin():
        await register_card(session, NewClient(name="ООО Связь", phones=["+7 916 740-00-09"]), POLICY)
    reader = PostgresLookupReader(database_url, pool_size=1)
    await reader.open()
    try:
        lookup = ClientLookup(reader, LookupCache(0, 1), POLICY)
        request = b'{"request_id": "00000000-0000-0000-0000-00000000abcd", "phone": "8 916 740 00 09"}'
        assert ClientLookupReply.model_validate_json(await on_lookup_request(request, lookup=lookup)).found
        # The database goes away: no new connections, and the open ones are cut.
        name = database_url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(pg_admin_url())
        try:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1",
                                name)
            lost = ClientLookupReply.model_validate_json(await on_lookup_request(request, lookup=lookup))
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await admin.close()
        assert (lost.found, lost.error, lost.request_id) == (False, "lookup unavailable, try again",
                                                             uuid.UUID(int=0xABCD))
        again = ClientLookupReply.model_validate_json(await on_lookup_request(request, lookup=lookup))
        assert again.found and again.display_name == "ООО Связь"
    finally:
        await reader.close()
