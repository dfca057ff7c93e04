"""The website chat's typing indicator: "the visitor is typing…" on the agent's console, "the operator is
typing…" in the visitor's widget.

These are signals, not records. Each says only whose conversation it is (the visitor's random chat id): no
text, no name, no address. They are published transient (``priyom_kit.signals``) to per-process fan-outs
whose messages expire in seconds and are never retried or dead-lettered, and the journal stream never keeps
them (``carries_personal_data``: the visitor id is a pseudonym of a person). One lost costs nothing; the
next one comes a few seconds later while the person still types.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StringConstraints

from .base import ChannelName, Event, IdempotencyKey

#: The visitor id intake-messenger gives a chat visitor.
ChatVisitor = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


def chat_thread(visitor: str) -> str:
    """The thread of a chat visitor's conversation (``ThreadHint.external_thread_id`` of each of their
    contacts): how tickets finds their ticket, and intake-messenger the visitor of a reply."""
    return f"chat:{visitor}"


class _TypingSignal(Event):
    """The envelope of a typing signal. It continues no contact and is never deduplicated (each one is news),
    so its correlation id is its own and its idempotency key says only what it is."""

    correlation_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    channel: ChannelName = "chat"
    idempotency_key: IdempotencyKey = "typing"
    visitor: ChatVisitor


class VisitorTyping(_TypingSignal):
    """A chat visitor is typing (``visitor.typing.v1.chat``): at most one every few seconds while they do.

    Tickets shows it on the consoles that have the visitor's open ticket on screen and may see it."""

    event_type = "visitor.typing"


class AgentTyping(_TypingSignal):
    """An agent is writing an answer on the chat ticket of ``visitor`` (``agent.typing.v1.chat``): at most one
    every few seconds while they write. intake-messenger shows it on that visitor's widgets only."""

    event_type = "agent.typing"
