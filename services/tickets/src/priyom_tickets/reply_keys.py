"""A reply sent twice is sent once: the agent's ``Idempotency-Key`` names the reply it first made.

A console that double-clicks Send, or retries after its answer was lost on the way back, repeats the key it
generated for the reply it composed. The first request stores the key on the reply's message (unique per ticket,
``ticket_messages.reply_key``); a repeat finds that message and answers with the same reply instead of
sending the customer the same text again. On PostgreSQL the repeat waits on the ticket's row lock and then
sees the first commit; where two still race (SQLite takes no row lock), the unique index refuses the second,
which then reads the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .reply_paths import Sent
from .tables import ticket_activities, ticket_messages

#: The longest key taken (the column's width); a console's is a UUID.
MAX_KEY = 200


class KeyReused(ValueError):
    """The key already named a reply with another text: the client reused it for a new reply."""


async def replied_with(session: AsyncSession, ticket: Mapping[str, Any], key: str, body: str) -> Sent | None:
    """The reply already made on ``ticket`` with ``key`` (None: none yet); ``KeyReused`` when its text differs."""
    message = (await session.execute(select(ticket_messages).where(
        ticket_messages.c.ticket_seq == ticket["seq"], ticket_messages.c.reply_key == key))).mappings().first()
    if message is None:
        return None
    if message["body"] != body:
        raise KeyReused(f"Idempotency-Key {key!r} was used for another reply on this ticket")
    call_back = None
    if message["delivery_status"] == "call_back":
        # The call-back carrying the reply was scheduled in the same change, at the same instant.
        call_back = (await session.execute(select(ticket_activities.c.id).where(
            ticket_activities.c.ticket_seq == ticket["seq"], ticket_activities.c.kind == "call_back",
            ticket_activities.c.created_at == message["created_at"]))).scalars().first()
    return Sent(message["reply_id"], message["channel"], call_back)
