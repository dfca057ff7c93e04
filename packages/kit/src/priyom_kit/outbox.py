"""The transactional outbox: events are written with the change that caused them, and published after.

A ticket's change, a router's assignment or a finished call must reach the bus if, and only if, the change
was committed. Writing the event in the same transaction and publishing after the commit gives exactly that;
a publish that fails (broker down, confirm timeout) leaves the row unpublished, and the next flush (after the
next change, or the periodic one a service runs with :class:`~priyom_kit.periodic.Periodic`) sends it, for
as long as it takes: a staged event is never given up. The same message id goes out each time, so a
subscriber that got it twice drops the repeat.

Each service keeps its own table (:func:`outbox_table`), stages rows with :func:`stage_events` inside its
transaction, and sends them with a :class:`Relay` over that table.

Each row keeps the trace context current when it was staged (``trace_context``: the W3C ``traceparent`` and
``tracestate``, or nothing when tracing is off), and its publish runs in that context: a relayed event
continues the trace of the delivery or request that caused it, whenever and by whichever process it goes out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Identity,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable

from priyom_contracts import EVENT_TYPES, Event, utcnow

from .bus import Publish
from .db import UtcDateTimeColumn
from .driver_statements import any_of, fetch_mappings
from .logging import get_logger
from .tracing import current_carrier, restored

log = get_logger("priyom.outbox")

_TYPES = {event.type_name(): event for event in EVENT_TYPES}
_BATCH = 100
#: The session's key for the rows :func:`staged_together` gathers.
_GATHERED = "priyom.outbox.gathered"


def outbox_table(metadata: MetaData, name: str) -> Table:
    """A service's outbox: one row per event to publish, in the order staged; ``published_at`` once sent."""
    return Table(
        name,
        metadata,
        Column("id", Integer, Identity(), primary_key=True),
        Column("event_type", String(64), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("created_at", UtcDateTimeColumn, nullable=False),
        Column("published_at", UtcDateTimeColumn),
        Column("trace_context", JSON),
        Index(None, "published_at"),
        sqlite_autoincrement=True,
    )


async def stage_events(session: AsyncSession, table: Table, events: Iterable[Event],
                       now: datetime | None = None) -> None:
    """Outbox rows for ``events``, in the caller's transaction: they are sent once it commits."""
    at = now or utcnow()
    trace_context = current_carrier()
    rows = [{"event_type": e.type_name(), "payload": e.model_dump(mode="json"), "created_at": at,
             "trace_context": trace_context} for e in events]
    gathered: dict[Table, list[dict[str, object]]] | None = session.info.get(_GATHERED)
    if gathered is not None:
        gathered.setdefault(table, []).extend(rows)
    elif rows:
        await session.execute(table.insert(), rows)


@asynccontextmanager
async def staged_together(session: AsyncSession) -> AsyncIterator[None]:
    """Outbox rows staged inside the block are written when it ends, in one statement per outbox, in the order
    staged: a batch of deliveries (:mod:`priyom_kit.batches`) stages its events with one statement instead of
    one a delivery. Each row keeps the trace context current when it was staged. The block ends before the
    transaction commits; a block that raises writes nothing (its transaction rolls back)."""
    if _GATHERED in session.info:
        raise RuntimeError("outbox rows are already being gathered in this session")
    gathered: dict[Table, list[dict[str, object]]] = {}
    session.info[_GATHERED] = gathered
    try:
        yield
    finally:
        del session.info[_GATHERED]
    for table, rows in gathered.items():
        if rows:
            await session.execute(table.insert(), rows)


class Relay:
    """Publishes staged events in order. One flush at a time per process. A flush sends its whole batch before
    it waits for the broker's confirms (one round trip a batch, not one a row: a relay waiting on each confirm
    in turn was the slowest stage of the pipeline); the rows confirmed are marked sent, and a row refused goes
    with the next flush. So a refused event can reach the broker after events staged behind it, which
    subscribers already allow for: a delivery that fails is retried after later ones anyway.

    Several processes may share one outbox (two router instances): on PostgreSQL each flush takes its batch
    with ``FOR UPDATE SKIP LOCKED``, so two relays do not send the same rows at once. A process killed
    between a publish and the commit that marks it sends that event again later, which subscribers drop as
    a repeat (same idempotency key).

    ``keep_sent=False`` deletes a row once its event is out, for an outbox whose rows have no later use: the
    events carry the customer's contact (personal data), and a row kept would be one more copy for an erasure
    to find and for retention to prune. Tickets keeps its sent rows a while (it announces a ticket again from
    them, and redacts and prunes them itself).

    Flushes are coalesced: a caller whose rows were committed before a flush began reading has them sent
    by that flush, so the handlers of a full prefetch, each flushing after its commit, wait for one or two
    flushes instead of queueing one each (a flush is four round trips; one each cost a fifth of the router's
    CPU per contact). A flush returns only once a flush that began after it was asked for has succeeded:
    what the caller committed is out, or the failure is raised."""

    def __init__(self, sessions: Callable[[], async_sessionmaker[AsyncSession]], publish: Publish,
                 table: Table, *, keep_sent: bool = True) -> None:
        self._sessions = sessions
        self._publish = publish
        self._table = table
        self._keep_sent = keep_sent
        self._lock = asyncio.Lock()
        #: Flushes asked for so far, and how many of those asks a finished flush had covered when it began.
        self._asked = 0
        self._covered = 0
        self._built: dict[str, tuple[Select[Any], Executable]] = {}

    async def flush(self) -> int:
        """Publish every unpublished event; returns how many went out (0 when a flush that began after
        this call sent them). Raises what the publish raised."""
        self._asked += 1
        ask = self._asked
        sent = 0
        async with self._lock:
            if self._covered >= ask:
                return 0  # a flush that began after this call, so saw what the caller committed, succeeded
            covering = self._asked
            while True:
                batch, failure = await self._flush_batch()
                sent += batch
                if failure is not None:
                    raise failure
                if batch < _BATCH:
                    self._covered = max(self._covered, covering)
                    return sent

    async def _flush_batch(self) -> tuple[int, Exception | None]:
        """One batch in one transaction: its rows locked, published in order, marked as sent together (also
        those sent before a publish failed)."""
        async with self._sessions()() as session:
            unsent, sent = self._statements(session.bind.dialect.name if session.bind is not None else "")
            rows = await fetch_mappings(session, unsent, {})
            # Every row's publish is sent before any confirm is awaited: the tasks start in the rows' order
            # and the channel writes in the order it is asked, so the broker gets them in order, and the
            # batch waits for one confirm round trip instead of one a row.
            loop = asyncio.get_running_loop()
            sends = [loop.create_task(self._publish_row(row)) for row in rows]
            outcomes = await asyncio.gather(*sends, return_exceptions=True)
            done: list[int] = []
            failure: Exception | None = None
            for row, outcome in zip(rows, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    if not isinstance(outcome, Exception):
                        raise outcome
                    # It stays unsent and goes with the next flush; the rows the broker confirmed are marked,
                    # so one refused event does not send those behind it again and again.
                    failure = failure or outcome
                    continue
                done.append(row["id"])
            if done:
                await fetch_mappings(session, sent, {"ids": done, "at": utcnow()})
            await session.commit()
        return len(done), failure

    def _statements(self, dialect: str) -> tuple[Select[Any], Executable]:
        """The batch's read (locked on PostgreSQL, where several relays may share the outbox) and its mark as
        sent (or delete), built once per dialect: they run on the driver (:mod:`.driver_statements`), which
        keeps each statement's compiled SQL, instead of through SQLAlchemy's execution layer, whose processing
        of the two with the flush's commit was 2-3% of tickets' CPU at saturation."""
        kept = self._built.get(dialect)
        if kept is None:
            table = self._table
            unsent = select(table).where(table.c.published_at.is_(None)).order_by(table.c.id).limit(_BATCH)
            if dialect == "postgresql":
                unsent = unsent.with_for_update(skip_locked=True)
            ids = any_of(table.c.id, "ids", dialect, Integer())
            sent: Executable = (table.update().where(ids).values(published_at=bindparam("at")) if self._keep_sent
                                else table.delete().where(ids))
            kept = self._built[dialect] = (unsent, sent)
        return kept

    async def _publish_row(self, row: Mapping[str, Any]) -> None:
        with restored(row["trace_context"]):
            await self._publish(_TYPES[row["event_type"]].model_validate(row["payload"]))

    async def flush_quietly(self) -> None:
        """Flush, logging instead of raising: the change is committed, and the next flush will retry."""
        try:
            await self.flush()
        except Exception as exc:  # noqa: BLE001 - the rows stay unpublished and are retried
            log.warning("outbox flush failed, will retry", table=self._table.name,
                        error=f"{type(exc).__name__}: {exc}"[:500])
