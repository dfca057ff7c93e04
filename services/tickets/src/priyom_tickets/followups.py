"""Which ticket a new contact continues, if any (queries only: the change itself is in :mod:`.changes`).

The channel adapters say what conversation a contact belongs to (``ThreadHint``): a ticket number the
customer quoted, the chat or thread id, the e-mail ids it answers. Any of them joins the contact to a ticket
only when that ticket belongs to the same client and is still open, so a stranger quoting someone else's
number (zammad#5064) or writing after the ticket was closed starts a ticket of their own.

Messages no person wrote (out-of-office replies, bounces, reports, list mail: ``Contact.automated``) go on the
thread of the ticket they answer, so an agent sees that the customer is away or that our mail did not arrive,
but they never open a ticket and never move one (a "customer replied" from an auto-responder is how helpdesks
end up in reply loops: freescout#3670). Their ticket is found as for a person's follow-up, or else by our own
Message-ID that the machine's mail names: a bounce comes from a mail server's postmaster, whom identity does
not know as the customer, but the id of the message it returns is ours and unguessable, so it is safe evidence
where a ticket number in a subject is not (zammad#5064).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ContactRouted, TicketStatus

from .lifecycle import FINAL
from .tables import ticket_messages, tickets

#: Built once: a contact that names no conversation (a new web form) builds no clause and runs no statement.
_OPEN = tickets.c.status.not_in([s.value for s in FINAL])
_ANY = tickets.c.seq.is_not(None)


async def open_ticket_continued_by(session: AsyncSession, event: ContactRouted) -> RowMapping | None:
    """The open ticket of the contact's client that the contact answers, strongest evidence first."""
    return await _continued(session, event, _OPEN)


async def closed_ticket_answered_by(session: AsyncSession, event: ContactRouted, *,
                                    closed_after: datetime) -> RowMapping | None:
    """A ticket of the client closed since ``closed_after`` that the contact answers (the survey's reply)."""
    if not names_a_conversation(event):
        return None
    return await _continued(session, event, (tickets.c.status == TicketStatus.CLOSED.value)
                            & (tickets.c.closed_at >= closed_after))


async def ticket_answered_by(session: AsyncSession, event: ContactRouted) -> RowMapping | None:
    """Any ticket of the client the contact answers, closed or not: where a machine's answer (an
    out-of-office reply, a bounce of our notice) is filed, since it never reopens or opens anything."""
    return await _continued(session, event, _ANY)


async def ticket_of_automated(session: AsyncSession, event: ContactRouted) -> RowMapping | None:
    """The ticket a machine-written contact answers: as a client's follow-up, else the ticket of our message
    it names; None when it answers none we know (then it is dropped: it must not become a ticket)."""
    found = await ticket_answered_by(session, event)
    named = named_ids(event)
    if found is not None or not named:
        return found
    ours = select(ticket_messages.c.ticket_seq).where(ticket_messages.c.direction == "outbound",
                                                      ticket_messages.c.external_message_id.in_(named))
    return (await session.execute(select(tickets).where(tickets.c.seq.in_(ours)).order_by(tickets.c.seq.desc())
                                  .limit(1).with_for_update())).mappings().first()


def names_a_conversation(event: ContactRouted) -> bool:
    """Whether the contact says which conversation it continues at all (a new web form does not)."""
    hint = event.contact.thread
    return bool(hint.ticket_number or hint.external_thread_id or named_ids(event))


def named_ids(event: ContactRouted) -> list[str]:
    hint = event.contact.thread
    return [i for i in (hint.in_reply_to, *hint.references) if i][:50]


async def _continued(session: AsyncSession, event: ContactRouted, state: Any) -> RowMapping | None:
    if not names_a_conversation(event):
        return None
    hint = event.contact.thread
    answered = named_ids(event)
    mine = (tickets.c.client_id == event.client.client_id) & state
    if hint.ticket_number:
        found = (await session.execute(select(tickets).where(mine, tickets.c.number == hint.ticket_number)
                                       .with_for_update())).mappings().first()
        if found is not None:
            return found
    if answered:
        found = await _by_message(session, mine, ticket_messages.c.external_message_id.in_(answered))
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
