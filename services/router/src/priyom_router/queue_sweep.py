"""The router's clock: contacts that waited outside a team's hours get an agent when the hours start.

A contact that arrives after hours waits in its team's queue (``after_hours: queue``), and one that finds
nobody available waits too. Agents who free up pull from the queues one contact at a time
(:func:`~priyom_router.handlers.offer_waiting_work`), so a queue of the second kind drains at the pace agents
finish work. But nobody frees up at 09:00 on Monday: the team simply starts work. So each round of the sweep
looks at every team with working hours that is at work now, and hands the contacts that were routed while it
was closed, most urgent and oldest first, to its available members by the book's balancing, as if they had
just arrived. Each hand-over is its own short transaction under the team group's lock, so several router
instances may sweep at once (a contact leaves the queue once) and new contacts are never held up for long;
its ``contact.assigned`` is staged in the outbox in that transaction and sent after the commit.

The clock is passed in, so tests move time instead of waiting for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import ContactAssigned, utcnow
from priyom_kit import get_logger
from priyom_kit.outbox import Relay
from priyom_kit.periodic import Periodic

from . import store
from .active_rules import ActiveRules
from .assignment import pick_agent
from .contact_type import within
from .handlers import hand_over
from .rules import RuleBook, Team

log = get_logger("priyom.router.queue_sweep")
Clock = Callable[[], datetime]
Wait = Callable[[float], Awaitable[None]]

#: Most contacts one round hands over; the rest go in the next round, so a long queue at 09:00 does not
#: keep one instance busy while new contacts arrive.
ROUND_LIMIT = 200


async def sweep_queues(sessions: async_sessionmaker[AsyncSession], rules: ActiveRules, relay: Relay,
                       now: datetime, *, limit: int = ROUND_LIMIT) -> list[ContactAssigned]:
    """One round at ``now``: every team at work gives the contacts that waited for its opening to its
    available members."""
    async with sessions() as session:
        book, _version = await rules.current(session)
    local = now.astimezone(book.zone)
    assigned: list[ContactAssigned] = []
    for team in book.teams:
        if not team.members or team.hours is None or not within(team.hours, local):
            continue  # a team without hours never opens: its queue drains as agents free up
        while len(assigned) < limit:
            handed = await _hand_over_next(sessions, book, team, local)
            if handed is None:
                break
            assigned.append(handed)
            await relay.flush_quietly()
    if assigned:
        log.info("queues swept", assigned=len(assigned))
    return assigned


async def _hand_over_next(sessions: async_sessionmaker[AsyncSession], book: RuleBook, team: Team,
                          local: datetime) -> ContactAssigned | None:
    group = book.balancing_group(team.name)
    async with sessions() as session, session.begin():
        await store.lock_group(session, group.key)
        found = await store.queue(session, [team.name], limit=1, until_opening=True)
        if not found:
            return None
        waiting = found[0]
        roster = await store.group_roster(session, group.members, await store.agent_states(session),
                                          round_robin=book.assignment.balancing == "round_robin")
        agent = pick_agent(team, book, roster)
        if agent is None:
            return None
        load = roster.state(agent, book.assignment.available_by_default).open_tickets
        why = f"{team.name} at work ({local:%a %H:%M}): {agent} took it from the queue ({load} open)"
        return await hand_over(session, waiting, agent, why)


class QueueSweeper:
    """Runs :func:`sweep_queues` every ``interval_s`` seconds between the service's start and stop, the first
    round one interval after the start (0: never), on the kit's :class:`~priyom_kit.periodic.Periodic`."""

    def __init__(self, sessions: Callable[[], async_sessionmaker[AsyncSession]], rules: ActiveRules,
                 relay: Relay, *, interval_s: float, clock: Clock = utcnow, wait: Wait = asyncio.sleep) -> None:
        self._sessions, self._rules, self._relay, self._clock = sessions, rules, relay, clock
        self._loop = (Periodic("router-queue-sweep", self.tick, every_s=interval_s, at_start=False, wait=wait)
                      if interval_s > 0 else None)

    async def start(self) -> None:
        if self._loop is not None:
            self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()

    async def tick(self) -> list[ContactAssigned]:
        return await sweep_queues(self._sessions(), self._rules, self._relay, self._clock())
