"""``bounded``: a deadline on one await that never loses its caller's cancellation."""

from __future__ import annotations

import asyncio
import sys

import pytest

from priyom_kit.deadlines import bounded


async def cancelled_as_its_operation_finishes(wait) -> object:  # noqa: ANN001 - bounded or asyncio.wait_for
    """Cancel a task in the very turn the operation it waits on finishes: what ``stop()`` does to a loop whose
    statement just answered. Returns what the task ended with (its result, or the exception it raised)."""
    operation = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(wait(operation, 10))
    await asyncio.sleep(0)  # the task now waits
    operation.set_result("answered")
    task.cancel()
    try:
        return await task
    except BaseException as ended:  # noqa: BLE001 - the test inspects it
        return ended


async def test_a_cancellation_that_meets_a_finished_operation_still_cancels() -> None:
    assert isinstance(await cancelled_as_its_operation_finishes(bounded), asyncio.CancelledError)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 rebuilt wait_for on asyncio.timeout")
async def test_asyncio_wait_for_loses_that_cancellation_on_3_11() -> None:
    """Why :func:`bounded` exists: the same sequence through ``asyncio.wait_for`` returns the result."""
    assert await cancelled_as_its_operation_finishes(asyncio.wait_for) == "answered"


async def test_past_its_deadline_the_operation_is_cancelled_and_the_caller_gets_timeout_error() -> None:
    operation = asyncio.get_running_loop().create_future()
    with pytest.raises(TimeoutError):
        await bounded(operation, 0.01)
    assert operation.cancelled()


async def test_in_time_it_answers_and_none_means_no_deadline() -> None:
    async def answer() -> int:
        await asyncio.sleep(0.01)
        return 42

    assert await bounded(answer(), 5) == 42
    assert await bounded(answer(), None) == 42
