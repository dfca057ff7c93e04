"""Queues earlier versions declared and this one replaced.

A queue's type cannot change under its name (RabbitMQ refuses the declare with PRECONDITION_FAILED). A queue
holding messages that must not be lost gets a new name when it is made replicated, and the old one would
stay on the broker for ever: :func:`remove_if_empty` removes it at a start that finds it empty and unused;
one still holding messages (retries waiting out their delay, which expire back into their queue as before)
is kept and removed at a later start. A queue of requests nobody waits for after a few seconds keeps its
name, so that requesters of either version reach whichever queue is there: :func:`redeclare_as` deletes
the old one and declares it anew.
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


async def redeclare_as(connection: Any, name: str, arguments: dict[str, Any], *, attempts: int = 3) -> None:
    """Make ``name`` a durable queue with ``arguments``; one an earlier version declared otherwise is deleted,
    messages, consumers and all, and declared anew.

    Only for a queue whose messages may be dropped (a request the requester stops waiting for within
    seconds). The earlier version's consumers, told their queue is gone, may declare it again their way
    before this does: hence a few attempts.
    """
    for attempt in range(1, attempts + 1):
        channel = await connection.channel(publisher_confirms=False)
        try:
            await channel.declare_queue(name, durable=True, arguments=arguments)
            return
        except ChannelPreconditionFailed:
            if attempt == attempts:
                raise
            log.info("queue declared otherwise by an earlier version: replaced", queue=name)
            replacing = await connection.channel(publisher_confirms=False)
            await replacing.queue_delete(name)
            await replacing.close()
        finally:
            if not channel.is_closed:
                await channel.close()
