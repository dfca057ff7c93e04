"""``fetch_mappings``: the same rows on SQLite (through SQLAlchemy) and PostgreSQL (on asyncpg), a list of any
length in one prepared statement, values written into the statement sent with it, writes in a session's
transaction with JSON columns written as SQLAlchemy writes them, and an expanding ``IN`` refused with a clear
error rather than sent as wrong SQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, Uuid, bindparam, literal, select
from sqlalchemy.exc import IntegrityError

from priyom_kit.db import Database, UtcDateTimeColumn
from priyom_kit.driver_statements import any_of, fetch_mappings
from priyom_kit.pytest_plugin import create_pg_database, drop_pg_database

metadata = MetaData()
things = Table("driver_read_things", metadata, Column("id", Integer, primary_key=True),
               Column("owner", Uuid, nullable=False), Column("team", String(50), nullable=False),
               Column("at", UtcDateTimeColumn, nullable=False))
notes = Table("driver_statement_notes", metadata, Column("id", Integer, primary_key=True),
              Column("doc", JSON), Column("maybe", JSON(none_as_null=True)))
OWNER = uuid.uuid4()
AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def statement(dialect_name: str) -> object:
    return (select(literal("thing").label("kind"), things.c.id, things.c.team, things.c.at)
            .where(things.c.owner == bindparam("owner", type_=Uuid()), any_of(things.c.team, "teams", dialect_name))
            .order_by(things.c.id).limit(2))


async def test_rows_by_name_with_lists_of_any_length(database_url: str) -> None:
    database = Database(database_url)
    await database.open()
    try:
        async with database.sessions() as session, session.begin():
            await session.run_sync(lambda sync: metadata.create_all(sync.connection()))
            await session.execute(things.insert(), [
                {"id": n, "owner": OWNER if n < 5 else uuid.uuid4(), "team": f"team{n % 3}", "at": AT} for n in range(8)])
        read = statement(database.backend)
        async with database.reads() as connection:
            one = await fetch_mappings(connection, read, {"owner": OWNER, "teams": ["team1"]})
            three = await fetch_mappings(connection, read, {"owner": OWNER, "teams": ["team0", "team1", "team2"]})
            none = await fetch_mappings(connection, read, {"owner": OWNER, "teams": []})
        assert [(r["kind"], r["id"], r["team"]) for r in one] == [("thing", 1, "team1"), ("thing", 4, "team1")]
        assert [r["id"] for r in three] == [0, 1], "the limit written into the statement is sent with it"
        assert list(none) == []
        assert one[0]["at"] == AT and one[0]["at"].utcoffset() is not None
    finally:
        await database.close()


async def test_an_expanding_in_list_is_refused_on_the_driver() -> None:
    url = await create_pg_database()  # SQLite reads go through SQLAlchemy, which expands a list itself
    database = Database(url)
    await database.open()
    try:
        read = select(things.c.id).where(things.c.team.in_(bindparam("teams", expanding=True)))
        async with database.reads() as connection:
            with pytest.raises(ValueError, match="any_of"):
                await fetch_mappings(connection, read, {"teams": ["a"]})
            with pytest.raises(ValueError, match="no value for the parameter"):
                await fetch_mappings(connection, statement("postgresql"), {"teams": ["a"]})
    finally:
        await database.close()
        await drop_pg_database(url)


async def test_a_write_runs_in_the_sessions_transaction_with_json_as_sqlalchemy_writes_it(database_url: str) -> None:
    database = Database(database_url)
    await database.open()
    write = notes.insert().values(id=bindparam("id"), doc=bindparam("doc"), maybe=bindparam("maybe")).returning(notes.c.id)
    try:
        async with database.sessions() as session, session.begin():
            await session.run_sync(lambda sync: metadata.create_all(sync.connection()))
        async with database.sessions() as session:
            await fetch_mappings(session, write, {"id": 1, "doc": {"a": [1, "б"]}, "maybe": None})
            await session.rollback()
        async with database.sessions() as session, session.begin():
            rows = await fetch_mappings(session, write, {"id": 2, "doc": {"a": [1, "б"]}, "maybe": None})
            await fetch_mappings(session, write, {"id": 3, "doc": None, "maybe": ["x"]})
            await session.execute(notes.insert(), [{"id": 4, "doc": None, "maybe": None}])
        assert [dict(r) for r in rows] == [{"id": 2}]
        async with database.sessions() as session:
            read = (await session.execute(select(notes.c.id, notes.c.doc, notes.c.maybe,
                                                 notes.c.doc.is_(None).label("doc_is_sql_null"))
                                          .order_by(notes.c.id))).all()
        assert [tuple(r) for r in read] == [(2, {"a": [1, "б"]}, None, False), (3, None, ["x"], False),
                                            (4, None, None, False)], "rolled back: 1; None as JSON null like 4"
    finally:
        await database.close()


async def test_a_clash_raises_what_sqlalchemy_raises_and_the_session_rolls_back(database_url: str) -> None:
    database = Database(database_url)
    await database.open()
    write = notes.insert().values(id=bindparam("id"), doc=bindparam("doc"), maybe=bindparam("maybe"))
    try:
        async with database.sessions() as session, session.begin():
            await session.run_sync(lambda sync: metadata.create_all(sync.connection()))
            await fetch_mappings(session, write, {"id": 7, "doc": [], "maybe": None})
        async with database.sessions() as session:
            with pytest.raises(IntegrityError):
                await fetch_mappings(session, write, {"id": 7, "doc": [], "maybe": None})
            await session.rollback()
            await fetch_mappings(session, write, {"id": 8, "doc": [], "maybe": None})
            await session.commit()
        async with database.sessions() as session:
            assert (await session.execute(select(notes.c.id).order_by(notes.c.id))).scalars().all() == [7, 8]
    finally:
        await database.close()
