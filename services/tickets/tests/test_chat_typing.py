"""The chat's typing indicator in the running service (the console's fixtures, see test_console_browser.py):
real ``/ws/live`` sockets, the real broker and database. A visitor's typing reaches the consoles that show
their ticket and may see it, not another team's agent who knows the number; an agent's typing in a chat
ticket goes out as a transient signal naming the visitor, at most one per agent every two seconds, not from an
agent who may not see the ticket, nor for a ticket answered by e-mail, nor with text in it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aio_pika
import websockets

from priyom_contracts import AgentTyping, MessengerId, Sender, ThreadHint, VisitorTyping, chat_thread
from priyom_kit.signals import publish_signal
from priyom_kit.testing import bus_tap

from .test_console_browser import (  # noqa: F401 - the fixtures are used by name
    Served,
    identity_url,
    portal_url,
    served,
    telephony_url,
)


async def chat_ticket(service: Served, make_routed, visitor: str, **routing: object) -> str:  # noqa: ANN001
    """A ticket opened by a website chat visitor's first message, as intake-messenger and the router send it."""
    return await service.ticket(
        make=make_routed, channel="chat", key=f"chat:{visitor}:{uuid.uuid4().hex}", body="Где мой заказ?",
        subject=None, thread=ThreadHint(external_thread_id=chat_thread(visitor), message_id=f"chat:{visitor}"),
        sender=Sender(name="Ольга", messenger=MessengerId(channel="chat", user_id=visitor)), **routing)


@asynccontextmanager
async def console(service: Served, name: str) -> AsyncIterator[websockets.ClientConnection]:
    """``/ws/live`` as the console of ``name`` opens it (a one-time ticket first)."""
    issued = await service.http.post("/api/v1/ws-tickets",
                                     headers={"Authorization": f"Bearer {service.tokens[name]}"})
    assert issued.status_code == 201, issued.text
    url = f"{service.url.replace('http', 'ws', 1)}/ws/live?ticket={issued.json()['ticket']}"
    async with websockets.connect(url) as socket:
        yield socket


async def typing_frames(socket: websockets.ClientConnection, within: float, *, first: bool = False) -> list[dict]:
    """The typing frames the console got within ``within`` seconds (the live feed's own frames are skipped);
    ``first``: only until the first one."""
    frames = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (left := deadline - loop.time()) > 0:
        try:
            frame = json.loads(await asyncio.wait_for(socket.recv(), left))
        except TimeoutError:
            break
        if frame["type"] == "typing":
            frames.append(frame)
            if first:
                break
    return frames


async def until(check, what: str) -> None:  # noqa: ANN001
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached: {what}")


async def test_a_visitors_typing_reaches_only_consoles_that_show_their_ticket_and_may_see_it(
    served: Served, make_routed  # noqa: F811
) -> None:
    visitor, other = uuid.uuid4().hex, uuid.uuid4().hex
    number = await chat_ticket(served, make_routed, visitor, team="service")
    elsewhere = await chat_ticket(served, make_routed, other, team="service")
    typing = served.parts.state["tickets"].typing
    async with (console(served, "Иванова") as ivanova, console(served, "Петров") as petrov,
                console(served, "Смирнов") as smirnov):
        await ivanova.send(json.dumps({"type": "watch", "ticket": number}))
        await petrov.send(json.dumps({"type": "watch", "ticket": number}))  # sales: he knows the number, no more
        await smirnov.send(json.dumps({"type": "watch", "ticket": elsewhere}))  # a supervisor on another chat
        await until(lambda: typing.shown() == {number: 2, elsewhere: 1}, "the consoles say what they show")

        assert await publish_signal(served.parts.bus, VisitorTyping(visitor=visitor))
        assert await typing_frames(ivanova, 10, first=True) == [{"type": "typing", "ticket": number}]
        # The same visitor again at once: dropped before any query.
        assert await typing.to_consoles(VisitorTyping(visitor=visitor)) == 0
        assert await typing_frames(petrov, 0.5) == [], "another team's agent is never told"
        assert await typing_frames(smirnov, 0.5) == [], "a console showing another ticket is not told"
        assert await typing_frames(ivanova, 0.2) == []

        # A second later: told again, her console only.
        await asyncio.sleep(1.1)
        assert await typing.to_consoles(VisitorTyping(visitor=visitor)) == 1
        assert await typing_frames(ivanova, 10, first=True) == [{"type": "typing", "ticket": number}]

        await ivanova.send(json.dumps({"type": "watch", "ticket": None}))  # back to the queue
        await until(lambda: typing.shown() == {number: 1, elsewhere: 1}, "she left the ticket")
        await asyncio.sleep(1.1)
        assert await typing.to_consoles(VisitorTyping(visitor=visitor)) == 0
    await until(lambda: not typing.shown(), "closed consoles are forgotten")


async def test_an_agents_typing_names_the_visitor_transient_throttled_and_only_when_allowed(
    served: Served, make_routed, amqp_url: str  # noqa: F811
) -> None:
    visitor = uuid.uuid4().hex
    number = await chat_ticket(served, make_routed, visitor, team="service")
    by_email = await served.ticket(make=make_routed, channel="email", team="service")
    prefix = served.parts.bus.topology.prefix
    async with (bus_tap(amqp_url, prefix, "agent.typing.v1.*") as signals,
                console(served, "Иванова") as ivanova, console(served, "Петров") as petrov):
        await petrov.send(json.dumps({"type": "typing", "ticket": number}))  # not his team's ticket
        await ivanova.send(json.dumps({"type": "typing", "ticket": by_email}))  # the answer goes by e-mail
        await signals.assert_empty(2.1)  # (and her next signal, on any ticket, is passed on 2 s later)
        await ivanova.send(json.dumps({"type": "typing", "ticket": number, "text": "Добрый день, Ольга"}))
        await signals.assert_empty(1.0)  # text is no part of a console's frame: not read at all

        await ivanova.send(json.dumps({"type": "typing", "ticket": number}))
        await ivanova.send(json.dumps({"type": "typing", "ticket": number}))  # again at once: throttled
        await ivanova.send(json.dumps({"type": "typing", "ticket": by_email}))  # or on another ticket
        signal = await signals.next(timeout=5)
        assert signal.delivery_mode == aio_pika.DeliveryMode.NOT_PERSISTENT
        assert AgentTyping.model_validate_json(signal.body).visitor == visitor
        # The envelope and the visitor: no text, no agent's name.
        assert set(json.loads(signal.body)) == {"schema_version", "message_id", "correlation_id", "occurred_at",
                                                "channel", "idempotency_key", "visitor"}
        await signals.assert_empty(1.0)
