"""The kit's outbox on a real database (SQLite and PostgreSQL): staged events go out in order, once the
publish works again, however many flushes failed before; nothing is given up."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import MetaData, Table, select
from sqlalchemy.ext.asyncio import create_async_engine

from priyom_contracts import Event
from priyom_kit.db import Database, make_metadata
from priyom_kit.outbox import Relay, outbox_table, stage_events, staged_together

from .test_bus import contact_event


async def opened_with(database_url: str, metadata: MetaData) -> Database:
    """The test's database with ``metadata``'s tables created, opened."""
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    database = Database(database_url)
    await database.open()
    return database


async def outbox_on(database_url: str, name: str) -> tuple[Table, Database]:
    """An outbox table created in the test's database, and the database opened."""
    metadata = make_metadata()
    table = outbox_table(metadata, name)
    return table, await opened_with(database_url, metadata)


async def test_a_refused_publish_is_retried_until_it_goes_out_in_order(database_url: str) -> None:
    table, database = await outbox_on(database_url, "test_outbox")
    sent: list[str] = []
    down = True

    async def publish(event: Event) -> None:
        if down:
            raise ConnectionError("broker down")
        sent.append(event.idempotency_key)

    try:
        relay = Relay(lambda: database.sessions, publish, table)
        async with database.sessions() as session:
            await stage_events(session, table, [contact_event(f"k{i}") for i in range(3)])
            await session.commit()
        for _ in range(25):  # the broker is down for many rounds: far more than any "N tries" would allow
            await relay.flush_quietly()
        assert sent == []
        down = False
        assert await relay.flush() == 3
        assert sent == ["k0", "k1", "k2"]
        assert await relay.flush() == 0  # sent once: a later flush has nothing left
    finally:
        await database.close()


async def test_a_flush_sends_its_batch_in_order_before_waiting_for_confirms(database_url: str) -> None:
    """A relay that waited for each confirm in turn was the pipeline's slowest stage: every row's publish is on
    its way, in staging order, before the first confirm comes back."""
    table, database = await outbox_on(database_url, "test_outbox_pipelined")
    asked: list[str] = []
    confirmed = asyncio.Event()

    async def publish(event: Event) -> None:
        asked.append(event.idempotency_key)
        await confirmed.wait()  # the broker confirms only once all of them are out

    try:
        relay = Relay(lambda: database.sessions, publish, table)
        async with database.sessions() as session:
            await stage_events(session, table, [contact_event(f"k{i}") for i in range(5)])
            await session.commit()
        flushing = asyncio.create_task(relay.flush())
        for _ in range(50):
            if len(asked) == 5:
                break
            await asyncio.sleep(0.01)
        assert asked == [f"k{i}" for i in range(5)]
        confirmed.set()
        assert await flushing == 5
        assert await relay.flush() == 0
    finally:
        await database.close()


async def test_an_outbox_that_keeps_nothing_deletes_each_row_once_sent(database_url: str) -> None:
    """The router's and telephony's outboxes carry contacts: once out, no copy stays behind."""
    table, database = await outbox_on(database_url, "test_outbox_gone")
    sent: list[str] = []

    async def publish(event: Event) -> None:
        if event.idempotency_key == "k1" and "k1" not in sent and len(sent) == 1:
            sent.append("refused")
            raise ConnectionError("broker down")
        sent.append(event.idempotency_key)

    try:
        relay = Relay(lambda: database.sessions, publish, table, keep_sent=False)
        async with database.sessions() as session:
            await stage_events(session, table, [contact_event(f"k{i}") for i in range(3)])
            await session.commit()
        await relay.flush_quietly()  # k0 and k2 go, k1 is refused: only k1's row stays
        async with database.sessions() as session:
            left = (await session.execute(select(table.c.payload))).scalars().all()
        assert [row["idempotency_key"] for row in left] == ["k1"]
        assert await relay.flush() == 1
        assert sent == ["k0", "refused", "k2", "k1"]  # each sent once; the refused one with the next flush
        async with database.sessions() as session:
            assert (await session.execute(select(table))).all() == []
    finally:
        await database.close()


async def test_handlers_flushing_at_once_share_flushes_and_each_returns_with_its_event_out(database_url: str) -> None:
    """Thirty-two handlers commit and flush at the same moment (a full prefetch): a few flushes send every
    event once, and no handler returns before its own event is out, nor when the flush meant to send it failed."""
    table, database = await outbox_on(database_url, "test_outbox_shared")
    sent: list[str] = []
    flushes = 0
    refuse = asyncio.Event()
    # Every handler flushes once all have committed: "at the same moment" by construction, not by how fast the
    # machine commits (on a slow share, SQLite's commits spread over several flushes and a CI run failed).
    committed: list[str] = []
    all_committed = asyncio.Event()

    async def publish(event: Event) -> None:
        await asyncio.sleep(0.03)  # a broker's confirm (one a flush): the other handlers ask for flushes meanwhile
        if refuse.is_set():
            raise ConnectionError("broker down")
        sent.append(event.idempotency_key)

    try:
        relay = Relay(lambda: database.sessions, publish, table, keep_sent=False)
        counted = relay._flush_batch  # noqa: SLF001 - the test counts the flushes' reads of the outbox

        async def counting() -> tuple[int, Exception | None]:
            nonlocal flushes
            flushes += 1
            return await counted()

        relay._flush_batch = counting  # type: ignore[method-assign]  # noqa: SLF001

        async def handler(key: str) -> None:
            async with database.sessions() as session:
                await stage_events(session, table, [contact_event(key)])
                await session.commit()
            committed.append(key)
            if len(committed) == 32:
                all_committed.set()
            await all_committed.wait()
            await relay.flush()
            assert key in sent, f"{key}'s handler returned before its event was out"

        await asyncio.gather(*(handler(f"k{i}") for i in range(32)))
        assert sorted(sent) == sorted(f"k{i}" for i in range(32)) and len(sent) == 32
        assert flushes <= 4, f"{flushes} flushes for 32 handlers"

        # The flush that would have carried a handler's event fails: that handler hears of it.
        refuse.set()
        async with database.sessions() as session:
            await stage_events(session, table, [contact_event("late")])
            await session.commit()
        with pytest.raises(ConnectionError):
            await relay.flush()
        refuse.clear()
        assert await relay.flush() == 1 and sent[-1] == "late"
    finally:
        await database.close()


async def test_rows_staged_together_are_written_at_the_end_of_the_block_in_order(
        database_url: str) -> None:
    """A batch stages its events with one statement: nothing is written inside the block, everything in staging
    order when it ends; a block that raises writes nothing."""

    table, database = await outbox_on(database_url, "test_outbox_together")
    try:
        async with database.sessions() as session:
            async with staged_together(session):
                await stage_events(session, table, [contact_event("k0"), contact_event("k1")])
                await stage_events(session, table, [contact_event("k2")])
                inside = (await session.execute(select(table.c.id))).all()
            await session.commit()
        assert inside == []
        with pytest.raises(RuntimeError, match="lost"):
            async with database.sessions() as session:
                async with staged_together(session):
                    await stage_events(session, table, [contact_event("never")])
                    raise RuntimeError("lost")
        async with database.sessions() as session:
            with pytest.raises(RuntimeError, match="already"):
                async with staged_together(session), staged_together(session):
                    pass
            rows = (await session.execute(select(table.c.payload).order_by(table.c.id))).scalars().all()
        assert [payload["idempotency_key"] for payload in rows] == ["k0", "k1", "k2"]
    finally:
        await database.close()
