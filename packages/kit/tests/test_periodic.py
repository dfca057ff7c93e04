from __future__ import annotations

import asyncio

from priyom_kit.periodic import Periodic


async def test_runs_at_start_then_each_period_and_survives_a_failing_run() -> None:
    runs: list[int] = []
    periods: list[float] = []
    third = asyncio.Event()

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) == 2:
            raise RuntimeError("database went away")
        if len(runs) == 3:
            third.set()

    async def wait(seconds: float) -> None:
        periods.append(seconds)
        await asyncio.sleep(0)

    periodic = Periodic("test-sweep", job, every_s=42.0, wait=wait)
    periodic.start()
    periodic.start()  # a second start does not run a second loop
    await asyncio.wait_for(third.wait(), timeout=5)
    await periodic.stop()
    assert not periodic.running
    assert runs[:3] == [0, 1, 2]  # the failure in run 2 did not end the loop
    assert set(periods) == {42.0}
    count = len(runs)
    await asyncio.sleep(0.01)
    assert len(runs) == count  # stopped means stopped


async def test_at_start_false_waits_one_period_before_the_first_run() -> None:
    events: list[str] = []
    ran = asyncio.Event()

    async def job() -> None:
        events.append("run")
        ran.set()

    async def wait(seconds: float) -> None:
        events.append(f"wait {seconds:g}")
        await asyncio.sleep(0)

    periodic = Periodic("test-sweep", job, every_s=60, at_start=False, wait=wait)
    periodic.start()
    await asyncio.wait_for(ran.wait(), timeout=5)
    await periodic.stop()
    assert events[:2] == ["wait 60", "run"]
