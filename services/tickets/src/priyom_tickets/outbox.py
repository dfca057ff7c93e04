"""The transactional outbox: events are written with the change that caused them, and published after.

An agent's reply, a status change or a customer notice must reach the bus if, and only if, the change was
committed. Writing the event in the same transaction and publishing after the commit gives exactly that; a
publish that fails (broker down, confirm timeout) leaves the row unpublished, and the next flush (after the
next change, or the periodic one) sends it. The same message id goes out each time, so a subscriber that got
it twice drops the repeat.

Events are staged by :mod:`.changes` (``store.stage_events``); this module sends them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import EVENT_TYPES, utcnow
from priyom_kit import Publish, get_logger

from .tables import ticket_outbox

log = get_logger("priyom.tickets.outbox")

_TYPES = {event.type_name(): event for event in EVENT_TYPES}
_BATCH = 100


class Relay:
    """Publishes staged events in order. One flush at a time per process; a failure stops the flush."""

    def __init__(self, sessions: Callable[[], async_sessionmaker[AsyncSession]], publish: Publish) -> None:
        self._sessions = sessions
        self._publish = publish
        self._lock = asyncio.Lock()

    async def flush(self) -> int:
        """Publish every unpublished event; returns how many went out. Raises what the publish raised."""
        sent = 0
        async with self._lock:
            while True:
                async with self._sessions()() as session:
                    rows = (await session.execute(
                        select(ticket_outbox).where(ticket_outbox.c.published_at.is_(None))
                        .order_by(ticket_outbox.c.id).limit(_BATCH))).mappings().all()
                    for row in rows:
                        await self._publish(_TYPES[row["event_type"]].model_validate(row["payload"]))
                        await session.execute(ticket_outbox.update().where(ticket_outbox.c.id == row["id"])
                                              .values(published_at=utcnow()))
                        await session.commit()
                        sent += 1
                if len(rows) < _BATCH:
                    return sent

    async def flush_quietly(self) -> None:
        """Flush, logging instead of raising: the change is committed, and the next flush will retry."""
        try:
            await self.flush()
        except Exception as exc:  # noqa: BLE001 - the rows stay unpublished and are retried
            log.warning("outbox flush failed, will retry", error=f"{type(exc).__name__}: {exc}"[:500])
