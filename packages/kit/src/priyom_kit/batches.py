"""Deliveries handled together: one transaction, the publishes confirmed together, then each one's ack.

A consumer's prefetch hands the process up to N deliveries at once, and each handled alone costs its own
transaction (BEGIN, COMMIT, a WAL flush) and waits for its own publish confirm. :class:`Batches` is group
commit for handlers: a delivery that arrives while a batch is being handled waits for the next, which takes
every one waiting (up to ``size``). Nothing waits for a batch to fill: a lone delivery is handled at once,
alone, as before; under load the batches grow by themselves.

Each caller (a queue consumer's handler, :mod:`.consumers`) gets its own outcome back, or its own exception,
and returns only then, so its delivery is acknowledged only once what the batch did for it is committed and
published: the exactly-once argument of a single delivery holds unchanged. A batch that fails is handled again
one delivery at a time (``alone``): one bad message fails alone and takes no other down with it, and each
failure is the one the delivery would have had without batching (retried, dead-lettered).

Each delivery keeps its own context (its trace, its correlation id in the logs): ``together`` runs each item's
work with ``within(i, work)``, which runs it in the context the item was submitted from, so an outbox row
staged for it continues its trace and a line logged for it carries its correlation id, not the first one's.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Generic, TypeVar

from .logging import get_logger

log = get_logger("priyom.batches")

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")
Result = TypeVar("Result")


class Within:
    """``await within(i, work)``: ``work`` (a coroutine) run in the context item ``i`` was submitted from."""

    def __init__(self, contexts: Sequence[contextvars.Context] | None) -> None:
        self._contexts = contexts

    @classmethod
    def here(cls) -> Within:
        """Every item's work run in place, in the caller's context: a batch handled outside :class:`Batches`
        (a handler calling its batch function with one event, a test)."""
        return cls(None)

    async def __call__(self, index: int, work: Coroutine[Any, Any, Result]) -> Result:
        if self._contexts is None:
            return await work
        # A task of its own, in a copy of the item's context: what the work sets stays with the work.
        return await asyncio.get_running_loop().create_task(work, context=self._contexts[index].copy())


Together = Callable[[Sequence[Item], Within], Awaitable[Sequence[Outcome | Exception]]]


class Batches(Generic[Item, Outcome]):
    """``await batches.submit(item)``: the item's outcome, from ``together`` run on a batch that holds it.

    ``together(items, within)`` returns one outcome per item, in order, or the exception of an item that failed
    after the batch committed (its publish: the others' stand, and it is retried by its own delivery); when
    ``together`` raises, each item of that batch goes through ``alone(item)``. ``parallel`` batches run at once;
    one by default: with two, the second started with whatever had just arrived (mostly a lone delivery) and
    the services spent 5-10% more CPU a contact at saturation for 6% fewer contacts a second (bench/e2e.py,
    three pairs of runs), while a batch waiting on the database costs the machine nothing. ``size`` bounds a
    batch (one transaction should not hold its locks for long)."""

    def __init__(self, together: Together[Item, Outcome],
                 alone: Callable[[Item], Awaitable[Outcome]], *, size: int = 32, parallel: int = 1) -> None:
        if size < 1 or parallel < 1:
            raise ValueError("a batch holds at least one item, and at least one batch runs")
        self._together = together
        self._alone = alone
        self._size = size
        self._parallel = parallel
        self._waiting: list[tuple[Item, asyncio.Future[Outcome], contextvars.Context]] = []
        self._running = 0
        self._drains: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks
        #: Batches handled and items in them, for the bench and the tests (how much was grouped).
        self.batches = 0
        self.items = 0

    async def submit(self, item: Item) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future, contextvars.copy_context()))
        if self._running < self._parallel:
            self._running += 1
            drain = asyncio.get_running_loop().create_task(self._drain())
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        return await future

    async def _drain(self) -> None:
        """Handle what waits, a batch at a time, until nothing does."""
        try:
            # Deliveries read off the socket with this one have their handlers scheduled but not yet run: one
            # turn of the loop lets them join this batch instead of starting the next.
            await asyncio.sleep(0)
            while self._waiting:
                batch, self._waiting = self._waiting[:self._size], self._waiting[self._size:]
                await self._handle(batch)
        finally:
            self._running -= 1

    async def _handle(self, batch: list[tuple[Item, asyncio.Future[Outcome], contextvars.Context]]) -> None:
        self.batches += 1
        self.items += len(batch)
        items = [item for item, _, _ in batch]
        within = Within([context for _, _, context in batch])
        try:
            outcomes = await self._together(items, within) if len(batch) > 1 else None
        except Exception as exc:  # noqa: BLE001 - each item is tried alone, and fails alone if it must
            log.warning("batch failed, each delivery on its own", size=len(batch), error=type(exc).__name__)
            outcomes = None
        if outcomes is not None:
            if len(outcomes) != len(batch):
                outcomes = [RuntimeError(f"a batch of {len(batch)} gave {len(outcomes)} outcomes")] * len(batch)
            for (_, future, _), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            return
        for index, (item, future, _) in enumerate(batch):
            try:
                outcome = await within(index, self._alone(item))
            except BaseException as exc:  # noqa: BLE001 - the caller raises it, as without batching
                if not isinstance(exc, Exception):  # cancelled: no caller of this batch is left waiting
                    for _, waiting, _ in batch:
                        if not waiting.done():
                            waiting.set_exception(exc)
                    raise
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(outcome)
