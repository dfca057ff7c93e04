"""The inbox as a batch's transaction sees it (``Inbox.batch``), on SQLite and PostgreSQL: one read for the
batch's keys, one write for its outcomes, the same answers as the inbox one delivery at a time."""

from __future__ import annotations

import pytest

from priyom_kit.db import Database, Inbox, InboxRaced, inbox_table, make_metadata

from .test_outbox import opened_with


async def inbox_on(database_url: str) -> tuple[Inbox, Database]:
    metadata = make_metadata()
    table = inbox_table(metadata, "test_inbox")
    return Inbox(table, "tests"), await opened_with(database_url, metadata)


async def test_a_batch_recalls_what_was_recorded_before_and_within_it(database_url: str) -> None:
    inbox, database = await inbox_on(database_url)
    try:
        async with database.sessions() as session, session.begin():
            assert await inbox.record(session, "old", {"n": 0})
        async with database.sessions() as session, session.begin():
            batch = await inbox.batch(session, ["old", "new", "new"])
            assert await batch.recall(session, "old") == {"n": 0}
            assert await batch.recall(session, "new") is None
            assert await batch.record(session, "new", {"n": 1})
            # The key repeated in the batch finds its first delivery's outcome, as the next transaction would.
            assert await batch.recall(session, "new") == {"n": 1}
            assert not await batch.record(session, "new", {"n": 2})
            assert not await batch.record(session, "old", {"n": 3})
            await batch.write(session)
        async with database.sessions() as session:
            assert await inbox.recall(session, "new") == {"n": 1}
            assert await inbox.recall(session, "old") == {"n": 0}
    finally:
        await database.close()


async def test_a_key_recorded_by_another_delivery_meanwhile_fails_the_batch(database_url: str) -> None:
    """Another consumer recorded one of the batch's keys after the batch read them: the write raises and the
    batch's transaction rolls back, leaving that delivery's outcome and nothing of the batch."""
    inbox, database = await inbox_on(database_url)
    try:
        async with database.sessions() as session:
            batch = await inbox.batch(session, ["a", "b"])
            await session.commit()  # SQLite: the other writer must get in (PostgreSQL reads without locking)
        async with database.sessions() as other, other.begin():
            assert await inbox.record(other, "b", {"by": "other"})
        with pytest.raises(InboxRaced):
            async with database.sessions() as session, session.begin():
                assert await batch.record(session, "a", {"by": "batch"})
                assert await batch.record(session, "b", {"by": "batch"})
                await batch.write(session)
        async with database.sessions() as session:
            assert await inbox.recall(session, "a") is None
            assert await inbox.recall(session, "b") == {"by": "other"}
    finally:
        await database.close()
