"""The journal of delivered replies: the migration creates what the code declares, and old records are swept,
on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, inspect, update

from priyom_contracts import DeliveryReported, DeliveryStatus
from priyom_intake_messenger.retention import retention_rules
from priyom_intake_messenger.settings import IntakeMessengerSettings
from priyom_intake_messenger.store import (
    album_parts,
    chat_messages,
    chat_visitors,
    deliveries,
    metadata,
    migrate_database,
)
from priyom_kit.adapters import SqlDeliveryJournal
from priyom_kit.retention import RetentionSweep
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


async def test_the_sweep_forgets_only_records_past_the_retention(database_url: str) -> None:
    """Delivery records, album parts and chat conversations, each past its own window; the kit's sweep, as every
    service's."""
    async with migrated_database(database_url, migrate_database) as database:
        journal = SqlDeliveryJournal(lambda: database.sessions, deliveries)
        old, recent = uuid.uuid4(), uuid.uuid4()
        for reply_id in (old, recent):
            await journal.record(DeliveryReported(
                correlation_id=uuid.uuid4(), channel="telegram", idempotency_key=f"{reply_id}:delivered",
                ticket_number="2026-000042", reply_id=reply_id, status=DeliveryStatus.DELIVERED))
        async with database.sessions() as session:  # the first was delivered 31 days ago
            await session.execute(update(deliveries).where(deliveries.c.reply_id == str(old))
                                  .values(delivered_at=datetime.now(UTC) - timedelta(days=31)))
            await session.commit()

        async with database.sessions() as session:
            await session.execute(insert(album_parts), [
                {"album": "chat:1:album:9", "part": str(n), "contact_key": "tg:bot:1", "recorded_at": at}
                for n, at in ((1, datetime.now(UTC) - timedelta(days=8)), (2, datetime.now(UTC)))])
            await session.commit()

        long_ago, now = datetime.now(UTC) - timedelta(days=91), datetime.now(UTC)
        async with database.sessions() as session:
            await session.execute(insert(chat_visitors), [
                {"visitor_id": v, "site": "shop", "token_hash": v * 2, "previous_hash": None, "created_at": at,
                 "seen_at": at} for v, at in (("a" * 32, long_ago), ("b" * 32, now))])
            await session.execute(insert(chat_messages), [
                {"visitor_id": v, "direction": "in", "message_id": "m-00000001", "body": "…", "files": [],
                 "ticket_number": None, "survey": False, "created_at": at, "blobs": []}
                for v, at in (("a" * 32, long_ago), ("b" * 32, now))])
            await session.commit()

        settings = IntakeMessengerSettings(INTAKE_MESSENGER_DATABASE_URL=database_url)
        sweep = RetentionSweep("intake-messenger", lambda: database.sessions(), retention_rules(settings))
        assert await sweep.sweep() == {"channel_deliveries": 1, "telegram_album_parts": 1, "chat_messages": 1,
                                       "chat_visitors": 1}
        assert await journal.delivered(old) is None
        assert await journal.delivered(recent) is not None
