"""Group commit for handlers (priyom_kit.batches): deliveries that arrive together are handled together, each
caller gets its own outcome or its own failure, and a failed batch is handled again one delivery at a time."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence

import pytest

from priyom_kit.batches import Batches, Within


class Recorder:
    """``together`` and ``alone`` that double what they get, and remember how they were called."""

    def __init__(self, *, fail_together: bool = False, bad: frozenset[int] = frozenset(),
                 unpublished: frozenset[int] = frozenset()) -> None:
        self.batches: list[list[int]] = []
        self.alone_calls: list[int] = []
        self.fail_together = fail_together
        self.bad = bad
        self.unpublished = unpublished
        self.running = 0
        self.most_running = 0

    async def together(self, items: Sequence[int], within: Within) -> list[int | Exception]:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(0.01)  # a transaction's round trips: the next deliveries arrive meanwhile
            self.batches.append(list(items))
            if self.fail_together or self.bad & set(items):
                raise RuntimeError("a clash: the batch rolls back")
            return [ConnectionError(f"{i}: publish refused") if i in self.unpublished else i * 2 for i in items]
        finally:
            self.running -= 1

    async def alone(self, item: int) -> int:
        self.alone_calls.append(item)
        if item in self.bad:
            raise ValueError(f"{item} is bad")
        return item * 2


async def test_a_lone_delivery_is_handled_alone_at_once() -> None:
    recorder = Recorder()
    batches = Batches(recorder.together, recorder.alone)
    assert await batches.submit(21) == 42
    assert recorder.alone_calls == [21] and recorder.batches == []  # exactly as without batching


async def test_deliveries_arriving_together_share_batches_and_each_gets_its_own_outcome() -> None:
    recorder = Recorder()
    batches = Batches(recorder.together, recorder.alone, size=8, parallel=2)
    results = await asyncio.gather(*(batches.submit(i) for i in range(40)))
    assert results == [i * 2 for i in range(40)]
    handled = sorted(i for batch in recorder.batches for i in batch) + recorder.alone_calls
    assert sorted(handled) == list(range(40)), "each delivery handled once"
    assert all(len(batch) <= 8 for batch in recorder.batches)
    assert len(recorder.batches) + len(recorder.alone_calls) <= 8, "grouped, not one by one"
    assert recorder.most_running <= 2
    assert (batches.batches, batches.items) == (len(recorder.batches) + len(recorder.alone_calls), 40)


async def test_a_failed_batch_is_handled_again_one_at_a_time_and_only_the_bad_delivery_fails() -> None:
    recorder = Recorder(bad=frozenset({5}))
    batches = Batches(recorder.together, recorder.alone, size=16, parallel=1)
    results = await asyncio.gather(*(batches.submit(i) for i in range(10)), return_exceptions=True)
    assert [r for r in results if isinstance(r, Exception)] == [results[5]]
    assert isinstance(results[5], ValueError) and "5 is bad" in str(results[5])
    assert [r for i, r in enumerate(results) if i != 5] == [i * 2 for i in range(10) if i != 5]
    assert 5 in recorder.alone_calls and any(5 in batch for batch in recorder.batches)


async def test_a_publish_refused_after_the_commit_fails_that_delivery_only() -> None:
    recorder = Recorder(unpublished=frozenset({3}))
    batches = Batches(recorder.together, recorder.alone, size=16, parallel=1)
    results = await asyncio.gather(*(batches.submit(i) for i in range(6)), return_exceptions=True)
    assert isinstance(results[3], ConnectionError)
    assert [r for i, r in enumerate(results) if i != 3] == [0, 2, 4, 8, 10]
    assert 3 not in recorder.alone_calls, "its delivery is retried by the broker, not run again here"


async def test_a_batch_giving_the_wrong_number_of_outcomes_fails_each_caller() -> None:
    async def short(items: Sequence[int], within: Within) -> list[int]:
        return [0]

    async def alone(item: int) -> int:
        await asyncio.sleep(0.01)
        return item

    batches = Batches(short, alone, size=4, parallel=1)
    results = await asyncio.gather(*(batches.submit(i) for i in (1, 2, 3, 4)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) and "a batch of 4 gave 1 outcomes" in str(r) for r in results), results


async def test_a_batch_cancelled_on_its_way_leaves_none_of_its_callers_waiting() -> None:
    """Shutting down while a failed batch is handled one at a time: every caller of it hears, none hangs."""
    async def clash(items: Sequence[int], within: Within) -> list[int]:
        raise RuntimeError("a clash")

    async def cancelled(item: int) -> int:
        raise asyncio.CancelledError

    batches = Batches(clash, cancelled, size=8, parallel=1)
    results = await asyncio.wait_for(asyncio.gather(*(batches.submit(i) for i in range(4)), return_exceptions=True),
                                     timeout=5)
    assert all(isinstance(r, asyncio.CancelledError) for r in results), results


DELIVERY: contextvars.ContextVar[str] = contextvars.ContextVar("delivery", default="none")


async def test_each_item_of_a_batch_is_worked_in_its_own_deliverys_context() -> None:
    """A trace or a correlation id set by a delivery's middleware is the one its work sees, batch or not."""
    seen: dict[int, str] = {}

    async def work(item: int) -> int:
        seen[item] = DELIVERY.get()
        DELIVERY.set("changed by the work")  # stays with the work
        return item

    async def together(items: Sequence[int], within: Within) -> list[int]:
        return [await within(i, work(item)) for i, item in enumerate(items)]

    batches = Batches(together, work, size=8, parallel=1)

    async def delivery(item: int) -> int:
        DELIVERY.set(f"delivery {item}")
        result = await batches.submit(item)
        assert DELIVERY.get() == f"delivery {item}"
        return result

    assert await asyncio.gather(*(delivery(i) for i in range(6))) == list(range(6))
    assert seen == {i: f"delivery {i}" for i in range(6)}
    assert batches.batches < 6


def test_a_batch_holds_at_least_one_delivery() -> None:
    async def nothing(_: object) -> None:
        return None

    with pytest.raises(ValueError, match="at least one"):
        Batches(nothing, nothing, size=0)
