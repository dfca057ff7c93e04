"""Which open ticket a new contact continues, if any.

The channel adapters say what conversation a contact belongs to (``ThreadHint``): a ticket number the
customer quoted, the chat or thread id, the e-mail ids it answers. Any of them joins the contact to a ticket
only when that ticket belongs to the same client and is still open, so a stranger quoting someone else's
number (zammad#5064) or writing after the ticket was closed starts a ticket of their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ContactRouted, TicketStatus

from .lifecycle import FINAL
from .store import ticket_messages, tickets


async def open_ticket_continued_by(session: AsyncSession, event: ContactRouted) -> RowMapping | None:
    """The open ticket of the contact's client that the contact answers, strongest evidence first."""
    return await _continued(session, event, tickets.c.status.not_in([s.value for s in FINAL]))


async def closed_ticket_answered_by(session: AsyncSession, event: ContactRouted, *,
                                    closed_after: datetime) -> RowMapping | None:
    """A ticket of the client closed since ``closed_after`` that the contact answers (the survey's reply)."""
    return await _continued(session, event, (tickets.c.status == TicketStatus.CLOSED.value)
                            & (tickets.c.closed_at >= closed_after))


async def ticket_answered_by(session: AsyncSession, event: ContactRouted) -> RowMapping | None:
    """Any ticket of the client the contact answers, closed or not: where a machine's answer (an
    out-of-office reply, a bounce of our notice) is filed, since it never reopens or opens anything."""
    return await _continued(session, event, tickets.c.seq.is_not(None))


async def _continued(session: AsyncSession, event: ContactRouted, state: Any) -> RowMapping | None:
    hint = event.contact.thread
    mine = (tickets.c.client_id == event.client.client_id) & state
    if hint.ticket_number:
        found = (await session.execute(select(tickets).where(mine, tickets.c.number == hint.ticket_number)
                                       .with_for_update())).mappings().first()
        if found is not None:
            return found
    answered = [i for i in (hint.in_reply_to, *hint.references) if i]
    if answered:
        found = await _by_message(session, mine, ticket_messages.c.external_message_id.in_(answered[:50]))
        if found is not None:
            return found
    if hint.external_thread_id:
        return await _by_message(session, mine, (ticket_messages.c.thread_key == hint.external_thread_id)
                                 & (ticket_messages.c.channel == event.channel))
    return None


async def _by_message(session: AsyncSession, mine, message_clause) -> RowMapping | None:  # noqa: ANN001
    seqs = select(ticket_messages.c.ticket_seq).where(message_clause)
    return (await session.execute(select(tickets).where(mine, tickets.c.seq.in_(seqs))
                                  .order_by(tickets.c.seq.desc()).limit(1).with_for_update())).mappings().first()
