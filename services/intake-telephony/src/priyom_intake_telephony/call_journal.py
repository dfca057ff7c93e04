"""Calls kept durable: the state of every call in progress, and a finished call's contact in the outbox.

A kill -9 must not lose a call. Every call an AMI event touched is saved (in one transaction per burst of
events, by one writer task, so the AMI reader never waits); a call the CTI webhook reports is saved before
the webhook answers. At hangup the finished call is saved before anything is said about its end, and after
the wait for its CDR its contact is staged in the outbox and its row removed, in one transaction; the
kit's :class:`~priyom_kit.outbox.Relay` then publishes it, retrying for as long as the broker refuses.

At start, :meth:`CallJournal.recover` turns the calls that had finished into contacts at once and resumes
the CTI webhook's calls in progress; the AMI session's calls are resumed by the replica that takes the PBX's
lease, when it takes it (their channels are then checked against ``CoreShowChannels``). Several replicas
share the table: a call's contact is staged by whichever deletes its row, so once, and a webhook post is
handled under :meth:`CallJournal.held`, the call as saved and no other replica on it meanwhile.

A database error is retried without end: a call's data is never given up while the service runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ContactReceived
from priyom_kit import get_logger
from priyom_kit.db import Database
from priyom_kit.outbox import Relay, stage_events

from .store import telephony_calls, telephony_outbox
from .tracker.call import Call
from .tracker.call_state import call_from_json, call_to_json

log = get_logger("priyom.intake-telephony.journal")

T = TypeVar("T")
#: Where a call is followed: the AMI tracker or the CTI webhook's calls (saved with the call's state).
Source = str
AMI, CTI = "ami", "cti"
#: Longest wait between two attempts at a database write that failed.
MAX_RETRY_WAIT_S = 10.0


@dataclass(frozen=True)
class StoredCall:
    """A call's row: its state, who follows it, and whether it hung up (its contact not staged yet)."""

    call: Call
    source: Source
    finished: bool


def open_cti_call(stored: StoredCall | None) -> Call | None:
    """The CTI call a :meth:`CallJournal.held` read found in progress (None: none, over, or an AMI call): what
    a replica follows for it (:meth:`.cti.CtiCalls.take`), whichever replica the PBX's last post reached."""
    if stored is None or stored.source != CTI or stored.finished:
        return None
    return stored.call


def _stored(row: Mapping[str, Any]) -> StoredCall:
    state = dict(row["state"])
    source = state.pop("source", AMI)
    return StoredCall(call_from_json(state), source, bool(row["finished"]))


class CallJournal:
    """The calls' table and the outbox of one service. ``open_calls`` maps each source to its calls in
    progress (the tracker's and the CTI webhook's ``calls``): what :meth:`save_changed` reads."""

    def __init__(self, database: Database, relay: Relay, open_calls: Mapping[Source, Mapping[str, Call]]) -> None:
        self.database = database
        self.relay = relay
        self.open_calls = open_calls
        self._lock = asyncio.Lock()
        self._pending: dict[str, Source] = {}
        self._finishing: set[str] = set()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._held_here = asyncio.Lock()

    # -- the calls in progress ----------------------------------------------------------------------------

    def changed(self, call_ids: set[str], source: Source = AMI) -> None:
        """Save these calls as they will be when the writer runs (synchronous: the AMI reader calls it)."""
        for call_id in call_ids:
            self._pending[call_id] = source
        if call_ids:
            self._wake.set()

    async def save(self, call: Call, source: Source) -> None:
        """Save one call in progress now (the CTI webhook answers after this)."""
        await self._retrying("save a call", lambda session: self._upsert(session, call, source, finished=False))

    async def save_changed(self) -> None:
        """Write what :meth:`changed` noted: a call still open as it is now, a call gone (merged into another,
        forgotten) removed; a finished one is left to :meth:`finish`, which saves it itself."""
        pending, self._pending = self._pending, {}
        if not pending:
            return

        async def write(session: AsyncSession) -> None:
            for call_id, source in pending.items():
                call = self.open_calls[source].get(call_id)
                if call is not None and call.ended_at is None:
                    await self._upsert(session, call, source, finished=False)
                elif call is None and call_id not in self._finishing:
                    await session.execute(delete(telephony_calls).where(telephony_calls.c.call_id == call_id))

        await self._retrying("save calls in progress", write)

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_forever(), name="call-journal")

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        await self.save_changed()

    async def open_early(self, call: Call, source: Source, contact: ContactReceived) -> None:
        """An agent opened the call's ticket during the call (call_ticket.py): the call, marked so, and that
        contact staged in one transaction, then sent."""
        async def stage(session: AsyncSession) -> None:
            await self._upsert(session, call, source, finished=False)
            await stage_events(session, telephony_outbox, [contact])

        await self._retrying("open a call's ticket", stage)
        await self.relay.flush_quietly()

    # -- finished calls -----------------------------------------------------------------------------------

    def finishing(self, call_id: str) -> None:
        """The call hung up and :meth:`finish` then :meth:`to_contact`, or :meth:`forget`, will follow
        (synchronous, called as the hangup is handled): until the last of them is done its row is neither
        rewritten as open nor removed by :meth:`save_changed`."""
        self._finishing.add(call_id)

    async def finish(self, call: Call, source: Source) -> None:
        """The call hung up: saved as finished before its end is announced, so its contact cannot be lost."""
        await self._retrying("save a finished call", lambda s: self._upsert(s, call, source, finished=True))

    async def forget(self, call_id: str) -> None:
        """A call that makes no contact (internal) hung up: nothing more to keep."""
        await self._retrying("forget a call", lambda s: s.execute(
            delete(telephony_calls).where(telephony_calls.c.call_id == call_id)))
        self._finishing.discard(call_id)

    async def to_contact(self, call_id: str, contact: ContactReceived, *, send: bool = True) -> None:
        """Drop the call's row and stage the contact in one transaction, then (``send``) send what the outbox
        holds. Only the transaction that deleted the row stages: a replica that started, or took the PBX over,
        while this one was finishing the call finds it gone and stages nothing."""
        async def stage(session: AsyncSession) -> None:
            deleted = await session.execute(delete(telephony_calls).where(telephony_calls.c.call_id == call_id))
            if deleted.rowcount:  # type: ignore[attr-defined]
                await stage_events(session, telephony_outbox, [contact])

        await self._retrying("stage a call's contact", stage)
        self._finishing.discard(call_id)
        if send:
            await self.relay.flush_quietly()

    async def recover(self, restore: Callable[[Call, Source], None],
                      contact: Callable[[Call], ContactReceived], sources: Collection[Source]) -> int:
        """The calls of ``sources``: in progress back to their source, finished ones staged as contacts (not
        sent: at start the bus is not up yet). Returns how many calls were resumed or finished."""
        async with self.database.sessions() as session:
            rows = [stored for row in (await session.execute(select(telephony_calls))).mappings().all()
                    if (stored := _stored(row)).source in sources]
        for stored in rows:
            if stored.finished:
                await self.to_contact(stored.call.call_id, contact(stored.call), send=False)
            else:
                restore(stored.call, stored.source)
        if rows:
            log.info("calls recovered", calls=len(rows), finished=sum(1 for r in rows if r.finished),
                     sources=sorted(sources))
        return len(rows)

    @asynccontextmanager
    async def held(self, call_id: str) -> AsyncIterator[StoredCall | None]:
        """Call ``call_id`` as saved (None: not followed, or its row already gone), held against every other
        replica's handling of it until the block ends: a PostgreSQL advisory lock, in a transaction of its
        own that ends with the block. On SQLite, one process's lock: several replicas need PostgreSQL."""
        if self.database.backend != "postgresql":
            async with self._held_here:
                async with self.database.sessions() as session:
                    found = await self._read(session, call_id)
                yield found
            return
        async with self.database.sessions() as session, session.begin():
            await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"priyom-call:{call_id}", 0))))
            yield await self._read(session, call_id)

    # -- inside ---------------------------------------------------------------------------------------------

    async def _read(self, session: AsyncSession, call_id: str) -> StoredCall | None:
        row = (await session.execute(select(telephony_calls).where(telephony_calls.c.call_id == call_id))
               ).mappings().first()
        return _stored(row) if row is not None else None

    async def _upsert(self, session: AsyncSession, call: Call, source: Source, *, finished: bool) -> None:
        values: dict[str, Any] = {"call_id": call.call_id, "state": {**call_to_json(call), "source": source},
                                  "finished": finished, "updated_at": datetime.now(UTC)}
        insert = pg_insert if self.database.backend == "postgresql" else sqlite_insert
        statement = insert(telephony_calls).values(**values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["call_id"], set_={k: v for k, v in values.items() if k != "call_id"}))

    async def _retrying(self, what: str, work: Callable[[AsyncSession], Awaitable[object]]) -> None:
        attempt = 0
        while True:
            try:
                async with self._lock, self.database.sessions() as session:
                    await work(session)
                    await session.commit()
                return
            except Exception as exc:  # noqa: BLE001 - the database is down or busy: wait and write again
                attempt += 1
                log.warning("call journal write failed, retrying", what=what, attempt=attempt,
                            error=type(exc).__name__)
                await asyncio.sleep(min(MAX_RETRY_WAIT_S, 0.1 * 2 ** attempt))

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.save_changed()
