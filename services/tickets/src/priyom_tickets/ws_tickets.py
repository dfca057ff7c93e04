"""One-time tickets that open the agent's WebSocket, so a long-lived token never travels in a URL.

A browser cannot set an ``Authorization`` header on a WebSocket, and whatever is in the URL ends up in proxy
and server logs. So the console first asks ``POST /api/v1/ws-tickets`` with its bearer token and gets a random
ticket valid :data:`TTL_S` seconds; it opens ``/ws/agent?extension=N&ticket=X``, and the ticket is deleted as it
is redeemed (one ``DELETE … RETURNING``, so two sockets cannot share it). Only its sha256 is stored, and the
table lives in the database, so any tickets process redeems a ticket another one issued.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import ws_tickets

#: How long a ticket opens a socket: enough for the page to connect, too short to be worth stealing.
TTL_S = 60


@dataclass(frozen=True)
class Holder:
    """Who a redeemed ticket was issued to."""

    name: str
    admin: bool


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


async def issue(session: AsyncSession, *, name: str, admin: bool, now: datetime) -> str:
    """A new ticket for ``name``; expired ones are removed on the way (the table stays small)."""
    await session.execute(delete(ws_tickets).where(ws_tickets.c.expires_at <= now))
    ticket = secrets.token_urlsafe(32)
    await session.execute(insert(ws_tickets).values(ticket_sha256=_digest(ticket), name=name[:500], admin=admin,
                                                    expires_at=now + timedelta(seconds=TTL_S)))
    return ticket


async def redeem(session: AsyncSession, ticket: str, *, now: datetime) -> Holder | None:
    """Who the ticket was for, once: None when unknown, used already or expired."""
    if not ticket or len(ticket) > 128:
        return None
    row = (await session.execute(
        delete(ws_tickets).where(ws_tickets.c.ticket_sha256 == _digest(ticket))
        .returning(ws_tickets.c.name, ws_tickets.c.admin, ws_tickets.c.expires_at))).first()
    if row is None or row.expires_at <= now:
        return None
    return Holder(row.name, row.admin)
