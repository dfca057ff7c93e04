"""The consoles' live picture: what changed in which ticket, pushed to every open console that may see it.

Each tickets process reads the tickets changed since its last round (``tickets.updated_at``, which every change
in :mod:`.changes` sets) once a second, whatever the number of consoles, and tells each of its own consoles
about the ones its agent may see (their teams' tickets and those assigned to them; supervisors all). So a change
made by any instance, the scheduler or a bus consumer reaches every console on every instance within about a
second, without a message per change on the bus and without the browsers polling.

A round reads back ``OVERLAP`` behind the newest time it saw, since a transaction that began earlier may commit
a smaller ``updated_at`` after a later one; what it already told (the number and the time) it does not repeat.
A console that reconnects reloads what it shows, so a round missed while it was away loses nothing.

The same round tells each agent of their activities' reminders (:mod:`.activity_reminders`), and the consoles
that see every team (the supervisors' dashboards) that the calls in progress changed (:mod:`.call_board`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from fastapi import WebSocket
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_kit import get_logger
from priyom_kit.deadlines import bounded

from . import activity_reminders
from .access import Viewer
from .call_board import CallBoard
from .tables import tickets

log = get_logger("priyom.tickets.live_feed")

#: How far behind the newest change seen a round reads again (a slow transaction's commit).
OVERLAP = timedelta(seconds=5)
#: Most tickets one round reads; a burst larger than this is caught up over the next rounds.
BATCH = 500
#: Live consoles one member of staff may hold open in one process (desk, laptop, wallboard, reconnect overlap).
MAX_PER_STAFF = 8
SEND_TIMEOUT_S = 2.0


def visible(viewer: Viewer, ticket: Mapping[str, Any]) -> bool:
    """The list rule of :class:`.access.AccessPolicy`, for a pushed change: a team the viewer sees, or theirs."""
    return viewer.teams is None or ticket["team"] in viewer.teams or ticket["assignee"] == viewer.name


class LiveFeed:
    """This process's live consoles and the round that tells them what changed."""

    def __init__(self, now: Callable[[], datetime], registry: CollectorRegistry | None = None, *,
                 remind_before: timedelta = timedelta(minutes=10), calls: CallBoard | None = None) -> None:
        self._sockets: dict[WebSocket, Viewer] = {}
        self._now = now
        self._remind_before = remind_before
        self._calls = calls
        self._reminded_to = now()
        self._cursor = now()
        self._told: dict[str, datetime] = {}
        self.open = Gauge("priyom_live_consoles", "Open /ws/live sockets in this process", registry=registry)

    def names(self) -> set[str]:
        """The staff with a live console open in this process."""
        return {viewer.name for viewer in self._sockets.values()}

    def calls_now(self) -> dict[str, int]:
        """The calls ringing and being talked on, as this process's board has them."""
        return self._calls.figures() if self._calls is not None else {"ringing": 0, "talking": 0}

    def count(self, name: str) -> int:
        return sum(1 for viewer in self._sockets.values() if viewer.name == name)

    def add(self, socket: WebSocket, viewer: Viewer) -> None:
        self._sockets[socket] = viewer
        self.open.inc()

    def remove(self, socket: WebSocket) -> None:
        if self._sockets.pop(socket, None) is not None:
            self.open.dec()

    async def round(self, sessions: async_sessionmaker[AsyncSession]) -> int:
        """Tell the consoles about the tickets changed since the last round; how many changes were told."""
        since = self._cursor - OVERLAP
        query = (select(tickets.c.number, tickets.c.team, tickets.c.assignee, tickets.c.status, tickets.c.subject,
                        tickets.c.escalation, tickets.c.escalated_to, tickets.c.escalated_at, tickets.c.updated_at)
                 .where(tickets.c.updated_at > since).order_by(tickets.c.updated_at).limit(BATCH))
        reminded_to = self._now()
        async with sessions() as session:
            rows = list((await session.execute(query)).mappings())
            # Reminders go to open consoles only: with none, the moments pass untold (no query every second).
            reminders = await activity_reminders.passed_between(
                session, self._reminded_to, reminded_to, before=self._remind_before) if self.names() else []
        self._reminded_to = reminded_to
        fresh = [row for row in rows if self._told.get(row["number"]) != row["updated_at"]]
        if rows:
            self._cursor = max(self._cursor, rows[-1]["updated_at"])
        for row in fresh:
            self._told[row["number"]] = row["updated_at"]
        horizon = self._cursor - OVERLAP
        self._told = {number: at for number, at in self._told.items() if at > horizon}
        calls_changed = self._calls is not None and self._calls.take_changed()
        if (fresh or reminders or calls_changed) and self._sockets:
            await self._tell(fresh, calls_changed, [(row["owner"], json.dumps(activity_reminders.reminder(row, reminded_to),
                                                              ensure_ascii=False)) for row in reminders])
        return len(fresh)

    async def _tell(self, rows: list[Mapping[str, Any]], calls_changed: bool, reminders: list[tuple[str, str]]
                    ) -> None:
        """Each console: its agent's reminders (``(owner, text)``), whether the calls changed (to those that see
        every team), and the changes it may see in one message."""
        sends = []
        for socket, viewer in list(self._sockets.items()):
            texts = [text for owner, text in reminders if owner == viewer.name]
            if calls_changed and viewer.teams is None:
                texts.append('{"type": "calls_changed"}')
            changes = [_change(row) for row in rows if visible(viewer, row)]
            if changes:
                texts.append(json.dumps({"type": "tickets_changed", "tickets": changes}, ensure_ascii=False))
            if texts:
                sends.append((socket, bounded(_send_all(socket, texts), SEND_TIMEOUT_S)))
        results = await asyncio.gather(*(send for _, send in sends), return_exceptions=True)
        for (socket, _), result in zip(sends, results, strict=True):
            if isinstance(result, BaseException):  # gone or too slow: it reloads when it reconnects
                log.info("live console dropped", error=type(result).__name__)
                self.remove(socket)
                await _close_quietly(socket)


def _change(row: Mapping[str, Any]) -> dict[str, Any]:
    """What a console is told of a changed ticket: enough to redraw its row and to notice an assignment or an
    escalation that concerns its agent."""
    escalated_at = row["escalated_at"]
    return {"number": row["number"], "team": row["team"], "assignee": row["assignee"], "status": row["status"],
            "subject": row["subject"], "escalation": row["escalation"], "escalated_to": row["escalated_to"],
            "escalated_at": escalated_at.isoformat() if escalated_at else None,
            "updated_at": row["updated_at"].isoformat()}


async def _send_all(socket: WebSocket, texts: list[str]) -> None:
    for text in texts:  # one after another: a socket is written by one sender at a time
        await socket.send_text(text)


async def _close_quietly(socket: WebSocket) -> None:
    try:
        await socket.close(1011, "too slow")
    except Exception:  # noqa: BLE001 - already gone is as good as closed
        return
