"""The typing indicator of website chat tickets, between the visitors' widgets and the agents' consoles.

Each console on ``/ws/live`` says which ticket it has on screen (``{"type": "watch", "ticket": N | null}``).

Visitor → agent. intake-messenger publishes :class:`~priyom_contracts.VisitorTyping` while a visitor types;
every tickets process gets it (the fan-out ``tickets.chat-typing``). A process with no console watching a
ticket does nothing; otherwise it looks up the visitor's open ticket among the watched ones (by the chat's
thread, as a follow-up is filed) and sends ``{"type": "typing", "ticket": N}`` to the consoles that show it
and may see it (the live feed's rule, :func:`.live_feed.visible`), and to no other.

Agent → visitor. A console sends ``{"type": "typing", "ticket": N}`` while the agent writes in the reply box
(every few seconds at most). If the agent may see the ticket and an answer written now would go to the chat
(:func:`.reply_paths.reply_path`, the one place that knows), :class:`~priyom_contracts.AgentTyping` names the
visitor it goes to; intake-messenger shows it on that visitor's widgets only.

Signals, not records: published transient, never retried, never stored, no text and no name in them; the
surplus of an over-eager sender is dropped (:class:`priyom_kit.signals.Throttle`). Nothing is logged per
signal.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import WebSocket
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import AgentTyping, Event, TicketNumber, VisitorTyping, chat_thread
from priyom_kit.deadlines import bounded
from priyom_kit.signals import Throttle

from .access import Viewer
from .lifecycle import FINAL
from .live_feed import SEND_TIMEOUT_S, visible
from .policy import Policy
from .reply_paths import reply_path
from .tables import ticket_messages, tickets

#: The least time between two signals of one agent that are passed on, whatever the ticket (the console sends
#: one every 2.5 s while the agent writes, in the one ticket on screen): each costs a few queries.
AGENT_EVERY_S = 2.0
#: The least time between two look-ups for one visitor (intake-messenger passes one per 2 s per process).
VISITOR_EVERY_S = 1.0


class ConsoleFrame(BaseModel):
    """What a console may say on ``/ws/live`` besides keep-alives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["watch", "typing"]
    ticket: TicketNumber | None = None


def console_frame(text: str | None) -> ConsoleFrame | None:
    """The console's frame, or None for anything else (a keep-alive, a frame this version does not know)."""
    try:
        return ConsoleFrame.model_validate_json(text) if text else None
    except ValidationError:
        return None


class ChatTyping:
    """The consoles of this process that show a ticket, and both ways of the typing indicator."""

    def __init__(self, sessions: Callable[[], async_sessionmaker[AsyncSession]],
                 publish: Callable[[Event], Awaitable[bool]], policy: Policy, *,
                 agent_every_s: float = AGENT_EVERY_S, visitor_every_s: float = VISITOR_EVERY_S) -> None:
        self._sessions = sessions
        self._publish = publish
        self._policy = policy
        self._watching: dict[WebSocket, tuple[Viewer, str]] = {}
        self.agents = Throttle(agent_every_s)
        self.visitors = Throttle(visitor_every_s)

    def watch(self, socket: WebSocket, viewer: Viewer, number: str | None) -> None:
        """The console on ``socket`` shows ``number`` now (None: no ticket)."""
        if number is None:
            self._watching.pop(socket, None)
        else:
            self._watching[socket] = (viewer, number)

    def forget(self, socket: WebSocket) -> None:
        self._watching.pop(socket, None)

    def shown(self) -> Counter[str]:
        """Ticket number → how many consoles of this process show it."""
        return Counter(number for _, number in self._watching.values())

    async def from_console(self, viewer: Viewer, number: str) -> bool:
        """The agent ``viewer`` writes an answer on ``number``: whether the visitor's widgets were signalled."""
        if not self.agents.allow(viewer.name):
            return False
        async with self._sessions()() as session:
            ticket = (await session.execute(select(tickets).where(tickets.c.number == number))).mappings().first()
            if ticket is None or not visible(viewer, ticket):
                return False
            path = await reply_path(session, ticket, deliverable=self._policy.outbound_channels,
                                    fallback=self._policy.reply_fallback)
        if path is None or path.channel != "chat" or path.recipient.messenger is None:
            return False  # the answer goes by e-mail or elsewhere: nobody waits in the chat for it
        try:
            signal = AgentTyping(visitor=path.recipient.messenger.user_id)
        except ValidationError:
            return False
        return await self._publish(signal)

    async def to_consoles(self, signal: VisitorTyping) -> int:
        """A visitor types: tell the consoles here that show their open ticket and may see it; how many."""
        watched = set(self.shown())
        if not watched or not self.visitors.allow(signal.visitor):
            return 0
        threads = select(ticket_messages.c.ticket_seq).where(
            ticket_messages.c.thread_key == chat_thread(signal.visitor), ticket_messages.c.channel == "chat")
        query = (select(tickets.c.number, tickets.c.team, tickets.c.assignee)
                 .where(tickets.c.seq.in_(threads), tickets.c.number.in_(watched),
                        tickets.c.status.not_in([s.value for s in FINAL]))
                 .order_by(tickets.c.seq.desc()).limit(1))
        async with self._sessions()() as session:
            ticket = (await session.execute(query)).mappings().first()
        if ticket is None:
            return 0
        text = json.dumps({"type": "typing", "ticket": ticket["number"]})
        sockets = [socket for socket, (viewer, number) in list(self._watching.items())
                   if number == ticket["number"] and visible(viewer, ticket)]
        results = await asyncio.gather(*(bounded(s.send_text(text), SEND_TIMEOUT_S) for s in sockets),
                                       return_exceptions=True)
        # A console that did not take it is the live feed's to drop; a signal is not worth more.
        return sum(1 for result in results if not isinstance(result, BaseException))
