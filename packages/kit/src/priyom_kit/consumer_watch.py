"""A consumer the broker no longer has is noticed, and the connection made again.

After a broker restart RabbitMQ accepts the connections back before every quorum queue has its leader, and
cancels the consumers that came back too early (``basic.cancel`` from the broker). aio-pika then restores
them, but not always: once in a CI run a service kept its connection and its channels while its queue had no
consumer at all, and the contacts waiting there went nowhere. No error is raised when that happens, so
nothing else would notice.

The queue-depth sampler reads each consumed queue's consumer count anyway (a passive declare). A queue this
process consumes from can never count 0 consumers while its consumer is alive: when it does for
:data:`LOST_AFTER_SAMPLES` samples in a row, the transport is closed, and aio-pika's own reconnect, the path a
broker restart takes, declares the queues and starts every consumer again. Messages a consumer held return to
their queue with the connection, as in a crash, and are delivered again: nothing is lost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from .logging import get_logger

log = get_logger("priyom.bus")

#: Samples in a row a queue may show no consumer before the connection is made again (a consumer being
#: restored at the moment of one sample is not lost).
LOST_AFTER_SAMPLES = 2


class LostConsumerError(ConnectionError):
    """Why the bus closed its own connection: the reason aio-pika logs for the reconnect."""


class ConsumerWatch:
    """Counts, per queue, the samples in a row that showed no consumer."""

    def __init__(self, lost_after: int = LOST_AFTER_SAMPLES) -> None:
        self._lost_after = lost_after
        self._without: dict[str, int] = {}

    def lost(self, consumers: Mapping[str, int]) -> list[str]:
        """The queues among ``consumers`` (name to the broker's consumer count) that have had none for
        ``lost_after`` samples in a row. Each is reported once; counting starts again after it."""
        lost = []
        for name, count in consumers.items():
            self._without[name] = 0 if count else self._without.get(name, 0) + 1
            if self._without[name] >= self._lost_after:
                lost.append(name)
                self._without[name] = 0
        return lost


async def reconnect(connection: Any, service: str, queues: list[str]) -> None:
    """Close ``connection``'s transport (an aio-pika ``RobustConnection``), so it connects again and restores
    its channels, queues and consumers."""
    log.warning("a consumed queue has no consumer: connecting again", service=service, queues=queues)
    transport = getattr(connection, "transport", None)
    if transport is None:  # already reconnecting
        return
    with contextlib.suppress(Exception):
        await transport.connection.close(LostConsumerError(f"no consumer on {', '.join(queues)}"))
