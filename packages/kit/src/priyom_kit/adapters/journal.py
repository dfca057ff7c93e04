"""The persistent record that a reply reached the customer, so a redelivered reply is never sent twice.

The outbound consumer acknowledges a reply after it is sent and reported. When that acknowledgement is lost
(the process is killed, the connection drops) the broker delivers the reply again, possibly to the process
that replaces the one that died. A memory of what was sent would be gone with the process; this journal is a
table in the service's own database, written right after the channel accepted the reply and read before
sending, so the redelivery is reported again and sent no second time, across restarts and replicas.

What remains is the gap between the channel accepting and the row being written (a kill in that instant):
no journal can close it without the channel's help, which the JSON webhook channel's ``Idempotency-Key``
gives and Telegram does not.

A service declares the table on its metadata with :func:`delivery_journal_table` and creates it in its own
Alembic migration, like the inbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import JSON, Column, MetaData, String, Table, Text, cast, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import DeliveryReported

from ..db import UtcDateTimeColumn

DEFAULT_TABLE = "channel_deliveries"


class DeliveryJournal(Protocol):
    """Where an edge remembers the replies it delivered."""

    async def delivered(self, reply_id: uuid.UUID) -> DeliveryReported | None:
        """The report of a reply already delivered, or None when it was not."""

    async def record(self, report: DeliveryReported) -> None:
        """Remember that the reply of ``report`` was delivered (a second record of it changes nothing)."""


class RecentDeliveries:
    """A journal in memory, bounded: what a channel edge uses when it is given no database (tests, a
    one-off script). A restart forgets it; services use :class:`SqlDeliveryJournal`."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._reports: dict[uuid.UUID, DeliveryReported] = {}

    async def delivered(self, reply_id: uuid.UUID) -> DeliveryReported | None:
        return self._reports.get(reply_id)

    async def record(self, report: DeliveryReported) -> None:
        self._reports[report.reply_id] = report
        if len(self._reports) > self.size:
            del self._reports[next(iter(self._reports))]


def delivery_journal_table(metadata: MetaData, name: str = DEFAULT_TABLE) -> Table:
    """The journal's table on a service's metadata: one row per delivered reply, with its report."""
    return Table(
        name,
        metadata,
        Column("reply_id", String(36), primary_key=True),
        Column("channel", String(32), nullable=False),
        Column("report", JSON, nullable=False),
        Column("delivered_at", UtcDateTimeColumn(), nullable=False),
    )


class SqlDeliveryJournal:
    """:class:`DeliveryJournal` in a table of the service's database (SQLite or PostgreSQL).

    ``sessions`` is called for each use, so the service may open its database after building the edge.
    """

    def __init__(self, sessions: _Sessions, table: Table) -> None:
        self._sessions = sessions
        self.table = table

    async def delivered(self, reply_id: uuid.UUID) -> DeliveryReported | None:
        async with self._sessions()() as session:
            row = await session.execute(select(self.table.c.report).where(self.table.c.reply_id == str(reply_id)))
            report = row.scalar_one_or_none()
        return None if report is None else DeliveryReported.model_validate(report)

    async def record(self, report: DeliveryReported) -> None:
        async with self._sessions()() as session:
            dialect = session.bind.dialect.name if session.bind else "sqlite"
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            await session.execute(insert(self.table).values(
                reply_id=str(report.reply_id), channel=report.channel, report=report.model_dump(mode="json"),
                delivered_at=datetime.now(UTC)).on_conflict_do_nothing())
            await session.commit()

    async def forget_before(self, cutoff: datetime) -> int:
        """Drop the records of replies delivered before ``cutoff``; how many were dropped.

        A reply is redelivered within minutes of its delivery (a lost acknowledgement, then the bus's retry), so
        records older than the longest time a reply can wait in the queue are never read again."""
        async with self._sessions()() as session:
            result = await session.execute(delete(self.table).where(self.table.c.delivered_at < cutoff))
            await session.commit()
        return int(result.rowcount or 0)


    async def redact_tickets(self, numbers: Sequence[str]) -> int:
        """An erasure request: clear what a delivery record says of the recipient (the failure's detail, the
        address, the channel's message id) for the replies on these tickets; the record itself stays, so a
        redelivered reply is still not sent twice. How many records changed; a repeat changes none."""
        text = cast(self.table.c.report, Text)
        changed = 0
        async with self._sessions()() as session:
            for start in range(0, len(numbers), 100):
                matches = or_(*(text.like(f'%"{number}"%') for number in numbers[start:start + 100]))
                for row in (await session.execute(select(self.table.c.reply_id, self.table.c.report)
                                                  .where(matches))).all():
                    report = DeliveryReported.model_validate(row.report)
                    redacted = report.model_copy(update={"detail": None, "recipient_email": None,
                                                         "external_message_id": None})
                    if redacted != report:
                        await session.execute(update(self.table).where(self.table.c.reply_id == row.reply_id)
                                              .values(report=redacted.model_dump(mode="json")))
                        changed += 1
            await session.commit()
        return changed


class _Sessions(Protocol):
    def __call__(self) -> async_sessionmaker[AsyncSession]: ...
