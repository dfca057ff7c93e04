"""``Database.reads``: the one autocommit connection kept for quick reads, on SQLite and on PostgreSQL; one
reader at a time; a connection that fails is replaced at the next read (the server ended it, as a restart or
an idle cut would)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from priyom_kit.db import Database
from priyom_kit.pytest_plugin import create_pg_database, drop_pg_database


async def test_reads_keep_one_connection_and_take_one_reader_at_a_time(database_url: str) -> None:
    database = Database(database_url)
    await database.open()
    try:
        async with database.reads() as first:
            assert (await first.execute(text("SELECT 1"))).scalar() == 1
        async with database.reads() as again:
            assert again is first, "the same connection is kept between reads"
        inside: list[int] = []

        async def read(n: int) -> None:
            async with database.reads() as connection:
                inside.append(n)
                assert len(inside) == 1, "two readers at once on one connection"
                await connection.execute(text("SELECT 1"))
                await asyncio.sleep(0.01)
                inside.remove(n)

        await asyncio.gather(*(read(n) for n in range(5)))
    finally:
        await database.close()


async def test_a_read_on_a_connection_the_server_ended_fails_and_the_next_one_reconnects() -> None:
    url = await create_pg_database()  # a server that ends a connection: PostgreSQL's pg_terminate_backend
    database = Database(url)
    await database.open()
    try:
        async with database.reads() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
        async with database.sessions() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the driver raises for a dead connection
            async with database.reads() as connection:
                await connection.execute(text("SELECT 1"))
        async with database.reads() as connection:
            assert (await connection.execute(text("SELECT pg_backend_pid()"))).scalar() != pid
    finally:
        await database.close()
        await drop_pg_database(url)
