"""A job run in the background at start and then every so often, for housekeeping such as retention sweeps
(or only after the first period, for a job that has nothing to do at start, such as the router's queue sweep).

Each service had grown its own copy of the same task loop (create, log and survive a failure, sleep, cancel
on stop). A failed run is logged by its exception's type only (the message may carry personal data) and
retried at the next period; it never stops the loop or the service.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from .logging import get_logger

log = get_logger("priyom.periodic")


class Periodic:
    """``Periodic("journal-sweep", sweep, every_s=3600).start()``; ``await ….stop()`` on shutdown.

    ``at_start=False`` waits one period before the first run. ``wait`` is what waits (a test passes its own
    to move time instead of sleeping).
    """

    def __init__(self, name: str, job: Callable[[], Awaitable[object]], *, every_s: float,
                 at_start: bool = True, wait: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        self.name = name
        self.job = job
        self.every_s = every_s
        self.at_start = at_start
        self.wait = wait
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def launch(self) -> None:
        """:meth:`start` as a service's lifecycle hook (``ServiceParts.after_start``, which awaits)."""
        self.start()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        if not self.at_start:
            await self.wait(self.every_s)
        while True:
            try:
                await self.job()
            except Exception as exc:  # noqa: BLE001 - a failed run is retried at the next period
                log.warning("periodic job failed", job=self.name, error=type(exc).__name__)
            await self.wait(self.every_s)
