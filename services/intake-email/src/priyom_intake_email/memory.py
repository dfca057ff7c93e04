"""The memory mail parsing may take at once, shared by the SMTP endpoint and every IMAP mailbox.

The stdlib parser holds a mail several times over while it works (the bytes, the decoded tree, the decoded
parts): measured on this service's parser, a mail with a large attachment peaks at about 9 times its size and
a large text body at about 12 times (tracemalloc, 1–20 MiB mails). Without a bound, a batch of large mails
parsed in parallel threads, or many SMTP sessions at once, take gigabytes. Each mail therefore reserves
``PARSE_MEMORY_FACTOR`` times its size from a budget, from the parse until its publish is confirmed (the
decoded files live that long), and waits, first come first served, until the budget has room; a mail that
alone needs more than the whole budget is refused (dead-lettered with that reason, never parsed, never lost).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

#: Peak parse memory per byte of mail, measured (see the module docstring).
PARSE_MEMORY_FACTOR = 12


class OverBudget(Exception):  # noqa: N818 - the domain's word, like BadMail
    """A mail needs more parse memory than the whole budget."""


class ByteBudget:
    """An asynchronous semaphore counted in bytes, served in arrival order so a large mail is not starved."""

    def __init__(self, capacity: int, factor: int = PARSE_MEMORY_FACTOR) -> None:
        self.capacity = capacity
        self.factor = factor
        self.in_use = 0
        self._queue: deque[tuple[int, asyncio.Future[None]]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def needed(self, size: int) -> int:
        return size * self.factor

    @asynccontextmanager
    async def reserve(self, size: int) -> AsyncIterator[None]:
        need = self.needed(size)
        if need > self.capacity:
            raise OverBudget(f"a mail of {size} bytes needs about {need} bytes to parse, more than the parse memory "
                             f"budget of {self.capacity} bytes (INTAKE_EMAIL_PARSE_MEMORY_BYTES)")
        if not self._queue and self.in_use + need <= self.capacity:
            self.in_use += need
        else:
            entry = (need, asyncio.get_running_loop().create_future())
            self._queue.append(entry)
            try:
                await entry[1]
            except BaseException:
                if entry[1].done() and not entry[1].cancelled():
                    self._release(need)  # granted just as it was cancelled: give it back
                else:
                    self._queue.remove(entry)
                    self._wake()  # the head may have changed
                raise
        try:
            yield
        finally:
            self._release(need)

    def _release(self, need: int) -> None:
        self.in_use -= need
        self._wake()

    def _wake(self) -> None:
        while self._queue and self.in_use + self._queue[0][0] <= self.capacity:
            need, granted = self._queue.popleft()
            if not granted.done():
                self.in_use += need
                granted.set_result(None)
