"""What every route of the tickets API is given: the service's parts, a session, the caller, and the ticket
the path names, checked once here (404 for a ticket the caller may not see, 403 for one they may only read,
409 for one already closed) instead of in every route.

Routes are module-level; the parts they use travel on ``app.state.tickets`` (set from ``ServiceParts.state``
by app.py), so a test builds the same app with other parts and no route closes over a global.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi import Path as PathParam
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import TicketStatus
from priyom_kit import HttpClient, Principal, Role, require_roles
from priyom_kit.blobs import BlobStore
from priyom_kit.db import Database
from priyom_kit.outbox import Relay

from .. import lifecycle, store
from ..access import AccessPolicy, staff_of
from ..agent_card import IdentityCards
from ..agent_socket import AgentSockets
from ..chat_typing import ChatTyping
from ..live_feed import LiveFeed
from ..policy import Policy


@dataclass(frozen=True)
class UploadLimits:
    #: Where uploads are spooled while hashed: the blob directory (a rename away from the file store).
    blob_dir: Path
    max_bytes: int
    max_files: int

    @property
    def max_request_bytes(self) -> int:
        return self.max_bytes * self.max_files + 65_536  # the files and their multipart framing


@dataclass(frozen=True)
class ApiParts:
    """The service's parts the routes use (built once in app.py)."""

    database: Database
    blobs: BlobStore
    relay: Relay
    policy: Policy
    access: AccessPolicy
    limits: UploadLimits
    #: Identity's cards for the console's client panel.
    cards: IdentityCards
    #: The agent consoles' sockets this process holds (caller pop-ups).
    consoles: AgentSockets
    #: The consoles' live channel this process holds, and the round that feeds it.
    live: LiveFeed
    #: The chat tickets' typing indicator, for the consoles of this process.
    typing: ChatTyping
    #: intake-telephony, for click-to-call (None: not configured).
    telephony: HttpClient | None = None
    #: The portal, for the console's knowledge-base panel (None: not configured).
    portal: HttpClient | None = None


def parts_of(request: Request) -> ApiParts:
    return request.app.state.tickets


Parts = Annotated[ApiParts, Depends(parts_of)]


async def session_of(parts: Parts) -> AsyncIterator[AsyncSession]:
    """One session per request, closed (and rolled back if not committed) when it ends."""
    async with parts.database.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(session_of)]
Staff = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR))]
Head = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
#: Another Priyom service with its own credential (PRIYOM_SERVICE_TOKENS), or the admin.
Internal = Annotated[Principal, Depends(require_roles(Role.SERVICE))]
Number = Annotated[str, PathParam(pattern=r"^[0-9]{4}-[0-9]{6,9}$", max_length=14,
                                  description="The ticket's registration number, e.g. 2026-000123")]


async def commit(session: AsyncSession, parts: ApiParts) -> None:
    """Commit the change, then send what it staged in the outbox (a failed send is retried later)."""
    await session.commit()
    await parts.relay.flush_quietly()


async def ticket_or_404(session: AsyncSession, parts: ApiParts, number: str, who: Principal, *, act: bool = False,
                        for_update: bool = False) -> RowMapping:
    """The ticket if ``who`` may see it (404 otherwise, so numbers reveal nothing) and, with ``act``, may
    change it (403)."""
    ticket = await store.get_ticket(session, number, for_update=for_update)
    viewer = staff_of(who)
    if ticket is None or not parts.access.may_view(viewer, ticket):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ticket number {number}")
    if act and not parts.access.may_act(viewer, ticket):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"{viewer.staff_role.value} may read but not act on {ticket['team']} tickets")
    return ticket


async def viewed_ticket(number: Number, who: Staff, session: Session, parts: Parts) -> RowMapping:
    return await ticket_or_404(session, parts, number, who)


async def actable_ticket(number: Number, who: Staff, session: Session, parts: Parts) -> RowMapping:
    """The ticket, if the caller may act on it, without a lock (for work that takes long, like an upload)."""
    return await ticket_or_404(session, parts, number, who, act=True)


async def acted_ticket(number: Number, who: Staff, session: Session, parts: Parts) -> RowMapping:
    """The ticket locked for a change (PostgreSQL: two changes queue), if the caller may act on it."""
    return await ticket_or_404(session, parts, number, who, act=True, for_update=True)


async def open_ticket(ticket: Annotated[RowMapping, Depends(acted_ticket)]) -> RowMapping:
    """As :func:`acted_ticket`, and 409 when the ticket is closed or cancelled."""
    if TicketStatus(ticket["status"]) in lifecycle.FINAL:
        raise HTTPException(status.HTTP_409_CONFLICT, f"ticket {ticket['number']} is {ticket['status']}")
    return ticket


#: The ticket of the path, for reading.
ViewedTicket = Annotated[RowMapping, Depends(viewed_ticket)]
#: The ticket of the path, if the caller may act on it (not locked).
ActableTicket = Annotated[RowMapping, Depends(actable_ticket)]
#: The ticket of the path, locked for a change by a caller who may act on it.
ActedTicket = Annotated[RowMapping, Depends(acted_ticket)]
#: As ActedTicket, and still open (not closed or cancelled).
OpenTicket = Annotated[RowMapping, Depends(open_ticket)]
