"""The journal of delivered replies: the migration creates what the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from sqlalchemy import inspect

from priyom_contracts import DeliveryReported, DeliveryStatus
from priyom_intake_messenger.store import deliveries, metadata, migrate_database
from priyom_kit.adapters import SqlDeliveryJournal
from priyom_kit.testing import migrated_database


async def test_migration_matches_the_tables_and_the_journal_round_trips(database_url: str) -> None:
    async with migrated_database(database_url, migrate_database) as database:
        async with database.sessions() as session:
            columns = await session.run_sync(lambda s: {
                name: {c["name"] for c in inspect(s.connection()).get_columns(name)} for name in metadata.tables})
        assert columns == {name: {c.name for c in table.columns} for name, table in metadata.tables.items()}

        journal = SqlDeliveryJournal(lambda: database.sessions, deliveries)
        reply_id = uuid.uuid4()
        report = DeliveryReported(correlation_id=uuid.uuid4(), channel="telegram",
                                  idempotency_key=f"{reply_id}:delivered", ticket_number="2026-000042",
                                  reply_id=reply_id, status=DeliveryStatus.DELIVERED,
                                  external_message_id="tg:5512345678:1001")
        assert await journal.delivered(reply_id) is None
        await journal.record(report)
        await journal.record(report)  # a second record of the same reply changes nothing
        assert await journal.delivered(reply_id) == report
