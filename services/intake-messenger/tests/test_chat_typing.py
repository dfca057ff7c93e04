"""The chat's typing indicator in the running service, on uvicorn and the real RabbitMQ: a visitor's ``typing``
frames go out as transient signals, at most one every two seconds, with nothing they carried; an oversized one
is dropped; an agent's typing reaches the sockets of that visitor and of nobody else."""

from __future__ import annotations

import asyncio

import aio_pika
import aiohttp

from priyom_contracts import AgentTyping, ContactReceived, VisitorTyping
from priyom_kit.testing import bus_tap

from .conftest import publish
from .test_chat_socket import Chat, Queues, chat, message, say  # noqa: F401 - the fixture is used by name


async def visitor_of(socket: aiohttp.ClientWebSocketResponse, contacts, text: str) -> str:  # noqa: ANN001
    """The visitor id the service gave this socket's visitor (on their first message's contact)."""
    assert (await say(socket, message(text)))["type"] == "ack"
    event, _ = await contacts.next(ContactReceived)
    assert event.contact.sender.messenger is not None
    return event.contact.sender.messenger.user_id


async def test_a_visitors_typing_goes_out_transient_throttled_and_empty(
    chat: Chat, amqp_url: str, cleanup_bus: str, bus_queues: Queues  # noqa: F811
) -> None:
    contacts = await bus_queues("identity.contacts")
    async with bus_tap(amqp_url, cleanup_bus, "visitor.typing.v1.chat") as signals, chat.visitor() as (socket, _):
        visitor = await visitor_of(socket, contacts, "Добрый день")
        for _ in range(5):  # a widget gone wrong, or a hostile one: five at once, with text in them
            await socket.send_json({"type": "typing", "text": "номер карты 4276 0000 0000 0000"})
        # No answer to a signal: the next frame the visitor gets answers the ping.
        assert await say(socket, {"type": "ping"}) == {"type": "pong"}
        first = await signals.next(timeout=5)
        assert first.delivery_mode == aio_pika.DeliveryMode.NOT_PERSISTENT
        assert VisitorTyping.model_validate_json(first.body).visitor == visitor
        assert b"4276" not in first.body and b"text" not in first.body
        await signals.assert_empty()  # the other four were dropped by the throttle

        await asyncio.sleep(2.0)  # the throttle's interval is over
        await socket.send_json({"type": "typing", "padding": "x" * 300})  # larger than any honest one
        assert await say(socket, {"type": "ping"}) == {"type": "pong"}
        await signals.assert_empty()  # an oversized typing frame is dropped
        await socket.send_json({"type": "typing"})
        assert VisitorTyping.model_validate_json((await signals.next(timeout=5)).body).visitor == visitor


async def test_an_agents_typing_reaches_that_visitor_only(
    chat: Chat, amqp_url: str, cleanup_bus: str, bus_queues: Queues  # noqa: F811
) -> None:
    contacts = await bus_queues("identity.contacts")
    async with chat.visitor() as (olga, _), chat.visitor() as (ivan, _):
        visitor = await visitor_of(olga, contacts, "Где мой заказ?")
        await visitor_of(ivan, contacts, "Как вернуть товар?")
        await publish(amqp_url, cleanup_bus, AgentTyping(visitor=visitor))
        assert await olga.receive_json(timeout=10) == {"type": "typing"}
        # Ivan's next frame is the answer to his ping: no typing of someone else's conversation before it.
        assert await say(ivan, {"type": "ping"}) == {"type": "pong"}
        # Someone else's, then hers again, in this order on the fan-out: she is shown hers, once.
        await publish(amqp_url, cleanup_bus, AgentTyping(visitor="0123456789abcdef0123456789abcdef"))
        await publish(amqp_url, cleanup_bus, AgentTyping(visitor=visitor))
        assert await olga.receive_json(timeout=10) == {"type": "typing"}
        assert await say(olga, {"type": "ping"}) == {"type": "pong"}
