"""Whether anyone is taking contacts now, for the widget's "we are online" or "leave a message": the router's
roster (``GET /api/v1/agents``, agents set themselves available there), asked every ``every_s`` seconds.

Without a router address the answer is the setting ``INTAKE_MESSENGER_CHAT_AGENTS_ONLINE``. A router that does
not answer leaves the last answer standing (the periodic job logs the failure): the chat takes messages
either way; only what the widget says, and whether a visitor who left an e-mail is answered there, depends on
it. A change is sent to every socket this process holds, so an open widget follows it.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from priyom_contracts import AgentAvailability
from priyom_kit import HttpClient
from priyom_kit.periodic import Periodic

from .live import VisitorSockets

_ROSTER = TypeAdapter(list[AgentAvailability])


class Presence:
    """``online``: the latest answer. ``launch``/``stop`` are the service's lifecycle hooks."""

    def __init__(
        self, online: bool, router: HttpClient | None, sockets: VisitorSockets, *, every_s: float = 30.0
    ) -> None:
        self.online = online
        self.router = router
        self.sockets = sockets
        self._loop = Periodic("chat-presence", self.refresh, every_s=every_s) if router is not None else None

    async def refresh(self) -> bool:
        """Ask the router now; whether anyone is available."""
        assert self.router is not None
        response = await self.router.get("/api/v1/agents")
        response.raise_for_status()
        online = any(agent.available for agent in _ROSTER.validate_json(response.content))
        if online != self.online:
            self.online = online
            await self.sockets.broadcast({"type": "presence", "online": online})
        return online

    async def launch(self) -> None:
        if self._loop is not None:
            self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
