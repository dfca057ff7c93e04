"""Caller pop-ups: what an agent's console shows while their phone rings, and as the call moves on.

Telephony publishes a :class:`~priyom_contracts.CallEvent` per call state with identity's card already on it
(looked up while the phone rings); this module adds what only tickets knows (the client's open tickets, their
last contacts, whether they ever had a ticket) and shapes the pinned JSON the console reads:

* ``{"type": "incoming_call", "call_id", "caller_number", "caller_name", "client": {...} | null,
  "first_contact", "open_tickets": [...], "last_contacts": [...]}`` when an extension starts ringing;
* ``{"type": "call_answered" | "call_ended", "call_id"}`` as the call moves on.

The queries are by ``tickets.client_id`` (indexed) and read a handful of rows, because the whole path from
the PBX to the console has to stay under 50 ms. Only the process holding a socket for the ringing extension
runs them (see :func:`on_call_event`): every tickets process receives every call event.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel
from sqlalchemy import bindparam, cast, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from priyom_contracts import CallEvent, CallState, ClientMatch
from priyom_kit.driver_statements import any_of, fetch_mappings

from .access import Viewer
from .lifecycle import FINAL
from .tables import ticket_messages, tickets

#: Open tickets and last contacts a pop-up lists: enough to pick the ticket the call is about, small to send.
OPEN_TICKETS_SHOWN = 5
LAST_CONTACTS_SHOWN = 5
SUBJECT_CHARS = 200


class PopupClient(BaseModel):
    id: uuid.UUID
    name: str | None
    organisation: str | None
    account_manager: str | None
    sla_tier: str


class OpenTicket(BaseModel):
    number: str
    status: str
    subject: str | None


class LastContact(BaseModel):
    """One earlier message from or to the client, newest first, on any of their tickets."""

    at: datetime
    channel: str
    direction: str
    ticket_number: str
    subject: str | None


class IncomingCall(BaseModel):
    type: Literal["incoming_call"] = "incoming_call"
    call_id: str
    caller_number: str
    caller_name: str | None
    client: PopupClient | None
    first_contact: bool
    open_tickets: list[OpenTicket]
    last_contacts: list[LastContact]


class CallProgress(BaseModel):
    type: Literal["call_answered", "call_ended"]
    call_id: str


class CallerHistory(BaseModel):
    """What tickets' own database says about a client."""

    had_ticket: bool
    open_tickets: list[OpenTicket]
    last_contacts: list[LastContact]


NO_HISTORY = CallerHistory(had_ticket=False, open_tickets=[], last_contacts=[])


def _clip(text: str | None) -> str | None:
    return text[:SUBJECT_CHARS] if text else text


def _history_statement(dialect_name: str, scoped: bool) -> Any:
    """The client's open tickets and last contacts as one ``UNION ALL``, with ``client_id`` (and, ``scoped``,
    the viewer's ``teams`` and ``name``) bound at execution; its SQL the same for any list of teams, so that
    PostgreSQL prepares it once (:func:`~priyom_kit.driver_statements.fetch_mappings`)."""
    client = tickets.c.client_id == bindparam("client_id", type_=tickets.c.client_id.type)
    mine = client
    if scoped:
        mine = mine & (any_of(tickets.c.team, "teams", dialect_name) | (tickets.c.assignee == bindparam("name")))
    at, channel, direction = ticket_messages.c.created_at, ticket_messages.c.channel, ticket_messages.c.direction

    def ticket_rows(kind: str) -> Any:
        """Tickets alone, shaped like the contacts' rows (no message: its columns null)."""
        return select(literal(kind).label("kind"), tickets.c.seq, tickets.c.number, tickets.c.status,
                      tickets.c.subject, cast(null(), at.type).label("at"), cast(null(), channel.type).label("channel"),
                      cast(null(), direction.type).label("direction"),
                      cast(null(), tickets.c.subject.type).label("ticket_subject"))

    open_part = (
        ticket_rows("open").where(mine, *(tickets.c.status != s.value for s in sorted(FINAL)))
        .order_by(tickets.c.seq.desc()).limit(OPEN_TICKETS_SHOWN)
    ).subquery()
    contact_part = (
        select(literal("contact").label("kind"), tickets.c.seq, tickets.c.number, tickets.c.status,
               ticket_messages.c.subject,
               at.label("at"), channel.label("channel"), direction.label("direction"),
               tickets.c.subject.label("ticket_subject"))
        .join(tickets, tickets.c.seq == ticket_messages.c.ticket_seq)
        # What the customer and the agents said: automatic notices are no contact with the client.
        .where(mine, func.coalesce(ticket_messages.c.kind, "") != "notice")
        .order_by(at.desc()).limit(LAST_CONTACTS_SHOWN)
    ).subquery()
    # Whether the client ever had a ticket (a first contact otherwise), asked in the same round trip (a second
    # statement cost as much again): one row at most, by the same index. Not scoped: a ticket the agent may
    # not see still makes the caller no first-timer.
    any_part = ticket_rows("any").where(client).limit(1).subquery()
    return union_all(select(open_part), select(contact_part), select(any_part))


@functools.cache
def _history(dialect_name: str, scoped: bool) -> Any:
    """Built once per dialect: a statement made anew for every ringing phone cost more CPU to construct and
    to compile than the indexed read itself."""
    return _history_statement(dialect_name, scoped)


async def caller_history(session: AsyncConnection | AsyncSession, client_id: uuid.UUID,
                         viewer: Viewer | None = None) -> CallerHistory:
    """The client's open tickets (newest first), their last contacts, and whether any ticket exists; with a
    ``viewer``, only tickets the agent may see (their teams' and their own), as the ticket list shows them.

    One statement (the open tickets, the last contacts and any one ticket of theirs as one ``UNION ALL``) rather
    than one per question, read on the driver where it can be: each execution costs more CPU in the driver and
    SQLAlchemy than the indexed read itself, and a ringing phone waits for it."""
    params: dict[str, Any] = {"client_id": client_id}
    if viewer is not None and viewer.teams is not None:
        params.update(teams=sorted(viewer.teams), name=viewer.name)
    dialect = session.bind.dialect if isinstance(session, AsyncSession) else session.dialect
    rows = await fetch_mappings(session, _history(dialect.name, "teams" in params), params)
    # A union keeps no order of its own: each list is put back in its order here.
    open_rows = sorted((r for r in rows if r["kind"] == "open"), key=lambda r: r["seq"], reverse=True)
    contact_rows = sorted((r for r in rows if r["kind"] == "contact"), key=lambda r: r["at"], reverse=True)
    return CallerHistory(
        had_ticket=bool(rows),
        open_tickets=[OpenTicket(number=r["number"], status=r["status"], subject=_clip(r["subject"]))
                      for r in open_rows],
        last_contacts=[LastContact(at=r["at"], channel=r["channel"], direction=r["direction"],
                                   ticket_number=r["number"], subject=_clip(r["subject"] or r["ticket_subject"]))
                       for r in contact_rows],
    )


def popup_client(match: ClientMatch) -> PopupClient:
    return PopupClient(id=match.client_id, name=match.display_name, organisation=match.organisation,
                       account_manager=match.account_manager, sla_tier=match.sla_tier)


def incoming_call(event: CallEvent, history: CallerHistory) -> IncomingCall:
    """The ringing pop-up. ``first_contact``: an unknown number, or a known client without any ticket yet."""
    return IncomingCall(
        call_id=event.call_id, caller_number=event.caller, caller_name=event.caller_name,
        client=popup_client(event.client) if event.client else None,
        first_contact=event.client is None or not history.had_ticket,
        open_tickets=history.open_tickets, last_contacts=history.last_contacts,
    )


class Consoles(Protocol):
    """The agents' consoles this process serves (:class:`~priyom_tickets.agent_socket.AgentSockets`)."""

    def serves(self, extension: str) -> bool: ...

    def viewer(self, extension: str) -> Viewer | None: ...

    async def ringing(self, extension: str, call_id: str, text: str, published: datetime | None = None
                      ) -> None: ...

    async def answered(self, extension: str | None, call_id: str, text: str) -> None: ...

    async def ended(self, extension: str | None, call_id: str, text: str) -> None: ...


async def on_call_event(event: CallEvent, *, consoles: Consoles,
                        reads: Callable[[], AbstractAsyncContextManager[AsyncConnection]]) -> None:
    """Turn one call event into pop-up messages for the consoles of this process that should see it.

    Ringing goes to the ringing extension only (not the account manager, not every agent: zammad#2044).
    Answered goes to every console this call popped up on (another agent's answer closes their pop-up).
    Missed (the call ended with nobody answering: telephony's outcome, not one phone's ring timing out) and
    ended close every pop-up of the call. The history is read on ``reads``'s autocommit connection (see
    :meth:`priyom_kit.db.Database.reads`).
    """
    if event.state is CallState.RINGING:
        if event.agent is None or not consoles.serves(event.agent):
            return  # another process holds that console, or nobody is logged in: no query at all
        history = NO_HISTORY
        if event.client is not None:
            async with reads() as connection:
                history = await caller_history(connection, event.client.client_id, consoles.viewer(event.agent))
        await consoles.ringing(event.agent, event.call_id, incoming_call(event, history).model_dump_json(),
                               event.occurred_at)
    elif event.state is CallState.ANSWERED:
        text = CallProgress(type="call_answered", call_id=event.call_id).model_dump_json()
        await consoles.answered(event.agent, event.call_id, text)
    else:
        text = CallProgress(type="call_ended", call_id=event.call_id).model_dump_json()
        await consoles.ended(event.agent, event.call_id, text)
