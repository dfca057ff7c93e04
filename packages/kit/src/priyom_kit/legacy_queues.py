"""Queues earlier versions declared and this one replaced: removed once nothing is left in them.

A queue's type cannot change under its name (RabbitMQ refuses the declare with PRECONDITION_FAILED), so a
queue made replicated gets a new name, and the old one would stay on the broker for ever. Each start removes
it if it is empty and nobody consumes it; one still holding messages (retries waiting out their delay, which
expire back into their queue as before) is kept and removed at a later start.
"""

from __future__ import annotations

from typing import Any

from aio_pika.exceptions import ChannelPreconditionFailed

from .logging import get_logger

log = get_logger("priyom.bus")


async def remove_if_empty(connection: Any, name: str) -> None:
    """Delete queue ``name`` if it is empty and unused (or absent), on a channel of its own: a refusal closes
    the channel it comes on."""
    channel = await connection.channel(publisher_confirms=False)
    try:
        await channel.queue_delete(name, if_unused=True, if_empty=True)
    except ChannelPreconditionFailed:
        log.info("legacy queue kept until empty", queue=name)
    finally:
        if not channel.is_closed:
            await channel.close()
