"""Dead letters are work, not a graveyard: tickets keeps every one in its database, where an admin lists
them, replays them after a fix, or discards them with a reason.

Tickets is the deployment's one consumer of the dead-letter queue because it holds the staff console and
the roles; a letter is acknowledged only once its row is committed, so none is lost between the queue and
the table. The number waiting is a gauge (``priyom_dead_letters_waiting``) an alert watches
(``deploy/prometheus/priyom-alerts.yml``).

Replay (see :func:`.dead_letter_facts.replay_of`): a bus message goes back to the one queue that gave up on
it; what an intake kept goes on the bus only if its body is a valid message of the type its routing key
names, and otherwise is marked not replayable with the reason. Consumers record idempotency keys, so a
letter replayed twice (its mark lost after a confirmed publish) changes nothing the second time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import Topology, utcnow
from priyom_kit import Publish, get_logger

from . import tables
from .dead_letter_facts import DeadLetterFacts, NotReplayable, Redeliver, preview, read_facts, replay_of

log = get_logger("priyom.tickets.dead_letters")

GAUGE_NAME = "priyom_dead_letters_waiting"
#: Longest wait between two tries to store a dead letter while the database is away.
KEEP_BACKOFF_MAX_S = 30.0


class LetterState(StrEnum):
    WAITING = "waiting"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class Outcome(StrEnum):
    """What became of one letter an admin acted on."""

    REPLAYED = "replayed"
    DISCARDED = "discarded"
    NOT_FOUND = "not_found"
    NOT_WAITING = "not_waiting"
    NOT_REPLAYABLE = "not_replayable"
    PUBLISH_FAILED = "publish_failed"


@dataclass(frozen=True)
class Result:
    id: int
    outcome: Outcome
    detail: str | None = None


@dataclass(frozen=True)
class Filters:
    """Which letters a list shows: one state (or all), and optionally one service, channel or source."""

    state: LetterState | None = LetterState.WAITING
    service: str | None = None
    channel: str | None = None
    source: str | None = None


#: :meth:`Bus.redeliver`, or a test's stand-in.
RedeliverTo = Callable[..., Awaitable[None]]
Sessions = Callable[[], async_sessionmaker[AsyncSession]]

#: The columns a list shows: everything but the body and the raw headers.
LISTED = [c for c in tables.dead_letters.c if c.name not in ("body", "headers", "fingerprint")]


class DeadLetterDesk:
    """Keeps, lists, replays and discards dead letters. Built in app.py; ``redeliver`` and ``publish`` are
    the bus's (:meth:`Bus.redeliver`, :meth:`Bus.publish`)."""

    def __init__(self, sessions: Sessions, *, topology: Topology, redeliver: RedeliverTo, publish: Publish,
                 registry: CollectorRegistry) -> None:
        self._sessions = sessions
        self.topology = topology
        self._redeliver = redeliver
        self._publish = publish
        self.gauge = Gauge(GAUGE_NAME, "Dead letters waiting for an admin to replay or discard them",
                           registry=registry)

    # -- keeping -------------------------------------------------------------------------------------------

    async def on_dead_letter(self, body: bytes, message: AbstractIncomingMessage) -> None:
        """The dead-letter queue's consumer: store, commit, then acknowledge.

        While the database is away the letter is held (not acknowledged, not requeued: a requeue would spin)
        and the store tried again with a growing pause; if the service stops meanwhile, the broker gives it
        to the next consumer.
        """
        facts = read_facts(body, dict(message.headers or {}), routing_key=message.routing_key,
                           message_type=message.type, message_id=message.message_id,
                           correlation_id=message.correlation_id, content_type=message.content_type,
                           arrived_at=utcnow())
        pause = 0.5
        while True:
            try:
                new = await self.keep(facts, body)
                break
            except Exception as exc:  # noqa: BLE001 - whatever it is, the letter must not be lost
                log.warning("dead letter not stored yet; trying again", error=type(exc).__name__, pause_s=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, KEEP_BACKOFF_MAX_S)
        await message.ack()
        if new:
            log.warning("dead letter kept", source=facts.source, service=facts.service, kind=facts.error_kind,
                        routing_key=facts.routing_key, reason=facts.reason[:300])
        await self._refresh_quietly()

    async def keep(self, facts: DeadLetterFacts, body: bytes) -> bool:
        """Store one letter; False when it was stored before (a second delivery of the same dead letter)."""
        replay = replay_of(facts.source, facts.routing_key, body, self.topology)
        row = {name: getattr(facts, name) for name in DeadLetterFacts.__dataclass_fields__}
        row |= {"state": LetterState.WAITING.value, "kept_at": utcnow(), "body": body,
                "preview": preview(body, facts.content_type),
                "not_replayable": replay.reason if isinstance(replay, NotReplayable) else None}
        async with self._sessions()() as session:
            known = select(tables.dead_letters.c.id).where(tables.dead_letters.c.fingerprint == facts.fingerprint)
            if await session.scalar(known) is not None:
                return False
            try:
                await session.execute(tables.dead_letters.insert().values(**row))
                await session.commit()
            except IntegrityError:  # the same letter, stored by a concurrent delivery a moment ago
                await session.rollback()
                return False
        return True

    # -- reading -------------------------------------------------------------------------------------------

    async def page(self, filters: Filters, *, limit: int, offset: int) -> tuple[int, list[RowMapping]]:
        """One page of letters, newest failure first, and how many match in all."""
        conditions = _conditions(filters)
        async with self._sessions()() as session:
            total = await session.scalar(select(func.count()).select_from(tables.dead_letters).where(*conditions))
            rows = await session.execute(select(*LISTED).where(*conditions)
                                         .order_by(tables.dead_letters.c.failed_at.desc(),
                                                   tables.dead_letters.c.id.desc())
                                         .limit(limit).offset(offset))
            return int(total or 0), list(rows.mappings())

    async def get(self, letter_id: int) -> RowMapping | None:
        async with self._sessions()() as session:
            result = await session.execute(select(*LISTED).where(tables.dead_letters.c.id == letter_id))
            return result.mappings().first()

    async def body(self, letter_id: int) -> tuple[bytes, str | None] | None:
        """The letter's body as it arrived and its content type (for an admin's download)."""
        c = tables.dead_letters.c
        async with self._sessions()() as session:
            row = (await session.execute(select(c.body, c.content_type).where(c.id == letter_id))).first()
            return None if row is None else (bytes(row.body), row.content_type)

    async def count_waiting(self) -> int:
        async with self._sessions()() as session:
            return int(await session.scalar(select(func.count()).select_from(tables.dead_letters)
                                            .where(tables.dead_letters.c.state == LetterState.WAITING)) or 0)

    async def refresh_gauge(self) -> None:
        """Set the gauge from the table, which every tickets process shares (run after each change here and
        periodically for the changes other processes made)."""
        self.gauge.set(await self.count_waiting())

    async def _refresh_quietly(self) -> None:
        """After a change that is done: a failed count must not turn it into an error (the periodic refresh
        corrects the gauge)."""
        try:
            await self.refresh_gauge()
        except Exception as exc:  # noqa: BLE001 - the gauge waits for the next round
            log.warning("dead-letter gauge not refreshed", error=type(exc).__name__)

    # -- acting --------------------------------------------------------------------------------------------

    async def replay(self, ids: Sequence[int], *, who: str, note: str | None = None) -> list[Result]:
        """Put each waiting letter back (see the module's docstring); each is its own transaction."""
        results = [await self._act(letter_id, who, note, self._replay_one) for letter_id in ids]
        await self._refresh_quietly()
        return results

    async def discard(self, ids: Sequence[int], *, who: str, reason: str) -> list[Result]:
        """Mark each waiting letter discarded: kept, with who, when and why, but no longer waiting."""
        results = [await self._act(letter_id, who, reason, _discard_one) for letter_id in ids]
        await self._refresh_quietly()
        return results

    async def _act(self, letter_id: int, who: str, note: str | None,
                   action: Callable[[RowMapping], Awaitable[Result]]) -> Result:
        async with self._sessions()() as session:
            # Locked (PostgreSQL), so two admins replaying the same letter publish it once.
            letter = (await session.execute(select(tables.dead_letters).where(tables.dead_letters.c.id == letter_id)
                                            .with_for_update())).mappings().first()
            if letter is None:
                return Result(letter_id, Outcome.NOT_FOUND, f"no dead letter {letter_id}")
            if letter["state"] != LetterState.WAITING:
                return Result(letter_id, Outcome.NOT_WAITING,
                              f"already {letter['state']} by {letter['handled_by']} at {letter['handled_at']}")
            result = await action(letter)
            if result.outcome not in (Outcome.REPLAYED, Outcome.DISCARDED):
                return result
            state = LetterState.REPLAYED if result.outcome is Outcome.REPLAYED else LetterState.DISCARDED
            await session.execute(tables.dead_letters.update().where(tables.dead_letters.c.id == letter_id)
                                  .values(state=state.value, handled_by=who, handled_at=utcnow(), handled_note=note))
            await session.commit()
        log.warning(f"dead letter {state.value}", id=letter_id, by=who, note=note, source=letter["source"])
        return result

    async def _replay_one(self, letter: RowMapping) -> Result:
        replay = replay_of(letter["source"], letter["routing_key"], letter["body"], self.topology)
        try:
            if isinstance(replay, NotReplayable):
                return Result(letter["id"], Outcome.NOT_REPLAYABLE, replay.reason)
            if isinstance(replay, Redeliver):
                await self._redeliver(letter["body"], queue=replay.queue, headers=dict(letter["headers"] or {}),
                                      content_type=letter["content_type"], message_id=letter["message_id"],
                                      correlation_id=letter["correlation_id"], message_type=letter["message_type"])
            else:
                await self._publish(replay.event)
        except Exception as exc:  # noqa: BLE001 - the broker's answer is the admin's to read
            log.warning("dead letter replay failed", id=letter["id"], error=type(exc).__name__)
            return Result(letter["id"], Outcome.PUBLISH_FAILED, f"{type(exc).__name__}: {exc}"[:500])
        return Result(letter["id"], Outcome.REPLAYED)


async def _discard_one(letter: RowMapping) -> Result:
    return Result(letter["id"], Outcome.DISCARDED)


def _conditions(filters: Filters) -> list[Any]:
    c = tables.dead_letters.c
    wanted = [(c.state, filters.state), (c.service, filters.service), (c.channel, filters.channel),
              (c.source, filters.source)]
    return [column == value for column, value in wanted if value is not None]
