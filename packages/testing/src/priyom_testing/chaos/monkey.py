"""The chaos loop: a random service killed (SIGKILL, no goodbye) and started again, again and again, and the
broker restarted at chosen moments, all while the customers keep coming.

A kill lands wherever the service happens to be: inside a consumer's transaction, between a commit and its
publish, between a publish and its confirm, in the middle of an SMTP session or a getUpdates batch. The
service is started again with the same command and environment; a start that fails (the broker is restarting)
is tried again until it succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import subprocess
import time
from dataclasses import dataclass, field

from priyom_kit.deadlines import bounded

from ..stack import Stack


@dataclass
class Monkey:
    stack: Stack
    #: Shell command that restarts the broker (it returns once the broker accepts connections again).
    broker_restart: str | None
    services: tuple[str, ...]
    every_s: tuple[float, float] = (6.0, 12.0)
    down_s: tuple[float, float] = (0.2, 3.0)
    kills: int = 0
    broker_restarts: int = 0
    log: list[str] = field(default_factory=list)

    async def kill_until(self, stop: asyncio.Event) -> None:
        """Kill a random service, wait, start it again; until ``stop`` is set."""
        while not stop.is_set():
            try:
                await bounded(stop.wait(), random.uniform(*self.every_s))
                return
            except TimeoutError:
                pass
            service = random.choice(self.services)
            await asyncio.to_thread(self.kill, service)
            self.kills += 1
            self.log.append(f"{time.strftime('%H:%M:%S')} kill -9 {service}")
            await asyncio.sleep(random.uniform(*self.down_s))
            await self.start(service)

    async def start(self, service: str) -> None:
        while True:
            try:
                await asyncio.to_thread(self.stack.start, [service], 90)
                return
            except (RuntimeError, TimeoutError) as exc:
                self.log.append(f"{time.strftime('%H:%M:%S')} {service} did not start: {str(exc)[:200]}")
                await asyncio.to_thread(self.kill, service)
                await asyncio.sleep(1)

    def kill(self, service: str) -> None:
        """kill -9 (a process that already died is only forgotten)."""
        with contextlib.suppress(KeyError, ProcessLookupError):
            self.stack.kill(service)

    async def restart_broker_at(self, moments: list[float], started: float) -> None:
        """Restart the broker at each of ``moments`` (seconds after ``started``)."""
        if not self.broker_restart:
            return
        for moment in moments:
            await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
            self.log.append(f"{time.strftime('%H:%M:%S')} broker restart")
            result = await asyncio.to_thread(subprocess.run, self.broker_restart, shell=True, capture_output=True,
                                             text=True, timeout=300)
            if result.returncode != 0:
                raise RuntimeError(f"broker restart failed: {result.stderr[-2000:]}")
            self.broker_restarts += 1
