"""The broker connection's frames of one turn of the event loop go to the socket together, in order, and a
lone frame is not held back: against the real broker, through the connection every service uses."""

from __future__ import annotations

import asyncio
import uuid

import aio_pika

from priyom_kit.broker_connection import connect_robust
from priyom_kit.gathered_writes import GatheredTransportFactory


async def test_a_turns_frames_are_sent_together_in_order(amqp_url: str) -> None:
    connection = await connect_robust(amqp_url)
    try:
        factory = connection.kwargs["transport_factory"]
        assert isinstance(factory, GatheredTransportFactory)
        writer = factory.writer
        assert writer is not None
        channel = await connection.channel()
        queue = await channel.declare_queue(f"test.gathered.{uuid.uuid4().hex}", exclusive=True)

        # One publish alone is confirmed (its frame was sent without waiting for others).
        await asyncio.wait_for(channel.default_exchange.publish(aio_pika.Message(b"alone"), routing_key=queue.name),
                               timeout=5)
        # Fifty publishes asked for in one turn, then fifty acks, as a batch of deliveries makes them. (A channel
        # sends its publishes one after another, each waiting for the last to be written; acks do not wait.)
        await asyncio.gather(*(channel.default_exchange.publish(aio_pika.Message(str(i).encode()),
                                                                routing_key=queue.name) for i in range(50)))
        received: list[bytes] = []
        messages: list[aio_pika.abc.AbstractIncomingMessage] = []
        async with queue.iterator() as deliveries:
            async for message in deliveries:
                messages.append(message)
                received.append(message.body)
                if len(received) == 51:
                    break
        writes, sends = writer.writes, writer.sends
        await asyncio.gather(*(message.ack() for message in messages))
        assert received == [b"alone", *(str(i).encode() for i in range(50))]
        assert writer.writes - writes == 51  # every ack went through it
        assert writer.sends - sends <= 51 // 5, writer.sends - sends

        # Nothing is left unacknowledged: the acks reached the broker (a passive declare counts what waits).
        await asyncio.sleep(0.2)
        again = await (await connection.channel()).declare_queue(queue.name, passive=True)
        assert again.declaration_result.message_count == 0
    finally:
        await connection.close()
