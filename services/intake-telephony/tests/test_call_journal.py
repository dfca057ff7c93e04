"""The journal's rows on a real database: a finished call's row stays until its contact is staged, whatever
the writer of calls in progress does meanwhile (a kill -9 between the two must find it)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from priyom_contracts import Event
from priyom_intake_telephony.call_journal import AMI, CallJournal
from priyom_intake_telephony.channels import Extensions
from priyom_intake_telephony.messages import CallMessages
from priyom_intake_telephony.store import telephony_calls, telephony_outbox
from priyom_intake_telephony.tracker.call import Call
from priyom_kit.db import Database
from priyom_kit.outbox import Relay

from .conftest import migrated_sqlite

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


async def rows(database: Database) -> list[tuple[str, bool]]:
    async with database.sessions() as session:
        return [(r.call_id, r.finished) for r in await session.execute(select(telephony_calls))]


async def test_a_finished_call_keeps_its_row_until_its_contact_is_staged(tmp_path: Path) -> None:
    database = Database(await asyncio.to_thread(migrated_sqlite, tmp_path))
    await database.open()
    sent: list[Event] = []

    async def publish(event: Event) -> None:
        sent.append(event)

    try:
        open_calls: dict[str, Call] = {}
        journal = CallJournal(database, Relay(lambda: database.sessions, publish, telephony_outbox),
                              {AMI: open_calls})
        call = Call(call_id="pbx1-1.1", started_at=NOW, caller="+79161234567", channels={"pbx1-1.1"})
        open_calls[call.call_id] = call
        journal.changed({call.call_id})
        await journal.save_changed()
        assert await rows(database) == [("pbx1-1.1", False)]

        del open_calls[call.call_id]  # the hangup: the tracker moves it to its finished calls
        call.ended_at = NOW
        journal.finishing(call.call_id)
        journal.changed({call.call_id})
        await journal.finish(call, AMI)
        await journal.save_changed()  # the writer runs between the finished row and the contact
        assert await rows(database) == [("pbx1-1.1", True)]  # a restart now makes the contact from it

        contact = CallMessages("pbx", "RU", Extensions()).contact(call, NOW)
        await journal.to_contact(call.call_id, contact)
        assert await rows(database) == []
        assert [e.idempotency_key for e in sent] == ["pbx:pbx1-1.1"]
    finally:
        await database.close()
