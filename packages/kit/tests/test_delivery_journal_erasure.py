"""An erasure clears what the delivery journal says of a reply's recipient, and keeps the record."""

from __future__ import annotations

from priyom_kit.db import Database


async def test_an_erasure_clears_what_delivery_records_say_of_the_recipient(database_url: str) -> None:
    import uuid

    from sqlalchemy import MetaData

    from priyom_contracts import DeliveryReported, DeliveryStatus
    from priyom_kit.adapters import SqlDeliveryJournal
    from priyom_kit.adapters.journal import delivery_journal_table

    metadata = MetaData()
    table = delivery_journal_table(metadata)
    database = Database(database_url)
    await database.open()
    try:
        async with database.sessions() as session:
            await session.run_sync(lambda s: metadata.create_all(s.connection()))
            await session.commit()
        journal = SqlDeliveryJournal(lambda: database.sessions, table)

        def report(number: str) -> DeliveryReported:
            reply_id = uuid.uuid4()
            return DeliveryReported(correlation_id=reply_id, channel="email", idempotency_key=f"{reply_id}:failed",
                                    ticket_number=number, reply_id=reply_id, status=DeliveryStatus.FAILED,
                                    detail="550 anna@example.ru: no such user", recipient_email="anna@example.ru",
                                    external_message_id="<r1@priyom.local>")
        theirs, others = report("2026-000041"), report("2026-000042")
        for r in (theirs, others):
            await journal.record(r)
        assert await journal.redact_tickets(["2026-000041"]) == 1
        assert await journal.redact_tickets(["2026-000041"]) == 0, "a repeat changes nothing"
        kept = await journal.delivered(theirs.reply_id)
        assert kept is not None and kept.status is DeliveryStatus.FAILED and kept.recipient_email is None
        assert kept.detail is None and (await journal.delivered(others.reply_id)) == others
    finally:
        await database.close()
