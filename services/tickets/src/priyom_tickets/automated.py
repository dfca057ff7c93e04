"""Messages no person wrote: out-of-office replies, bounces, reports, list mail (``Contact.automated``).

They go on the thread of the ticket they answer, so an agent sees that the customer is away or that our mail
did not arrive, but they never open a ticket, never move one (a "customer replied" from an auto-responder is
how helpdesks end up in reply loops: freescout#3670), send no notice and leave every SLA clock alone.

The ticket is found as for a person's follow-up (same client, ticket number or thread), or else by our own
Message-ID that the machine's mail names: a bounce comes from a mail server's postmaster, whom identity does not
know as the customer, but the id of the message it returns is ours and unguessable, so it is safe evidence
where a ticket number in a subject is not (zammad#5064).

A bounce also says which of our messages failed: the reply it names (In-Reply-To / References) or, when it
names none we know, the latest e-mail we sent on that ticket is marked failed, and the ticket is flagged
until a later reply is delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import AutomatedKind, ContactRouted

from . import store
from .followups import ticket_answered_by
from .store import ticket_messages, tickets

_DETAIL_MAX = 2000


async def file_automated(session: AsyncSession, event: ContactRouted, now: datetime) -> RowMapping | None:
    """Put the machine's message on the ticket it answers; the ticket, or None when it answers none we know
    (then it is dropped: it must not become a ticket)."""
    ticket = await ticket_answered_by(session, event) or await _ticket_of_our_message(session, event)
    if ticket is None:
        return None
    kind = event.contact.automated
    await store.insert_inbound_message(session, ticket["seq"], event)
    await store.add_history(session, ticket["seq"], at=now, actor=event.channel, action="automated_message",
                            details={"kind": kind.value if kind else None,
                                     "contact_id": str(event.contact.contact_id)})
    if kind == AutomatedKind.BOUNCE:
        await _mark_bounced(session, ticket, event, now)
    return ticket


def _named_ids(event: ContactRouted) -> list[str]:
    hint = event.contact.thread
    return [i for i in (hint.in_reply_to, *hint.references) if i][:50]


async def _ticket_of_our_message(session: AsyncSession, event: ContactRouted) -> RowMapping | None:
    named = _named_ids(event)
    if not named:
        return None
    ours = select(ticket_messages.c.ticket_seq).where(ticket_messages.c.direction == "outbound",
                                                      ticket_messages.c.external_message_id.in_(named))
    return (await session.execute(select(tickets).where(tickets.c.seq.in_(ours)).order_by(tickets.c.seq.desc())
                                  .limit(1).with_for_update())).mappings().first()


async def _mark_bounced(session: AsyncSession, ticket: Mapping[str, Any], event: ContactRouted,
                        now: datetime) -> None:
    failed = await _bounced_message(session, ticket["seq"], event)
    addresses = ", ".join(event.contact.undeliverable) or "адрес не указан"
    detail = f"bounce: {addresses}"[:_DETAIL_MAX]
    if failed is not None:
        await session.execute(ticket_messages.update().where(ticket_messages.c.id == failed["id"])
                              .values(delivery_status="failed", delivery_detail=detail))
    await store.update_ticket(session, ticket["seq"], delivery_failed_at=now)
    await store.add_history(session, ticket["seq"], at=now, actor=event.channel, action="delivery_failed",
                            details={"by": "bounce", "detail": detail,
                                     "reply_id": str(failed["reply_id"]) if failed and failed["reply_id"]
                                     else None})


async def _bounced_message(session: AsyncSession, seq: int, event: ContactRouted) -> RowMapping | None:
    """Our message the bounce is about: the one it names, else the latest we sent on its channel."""
    ours = (ticket_messages.c.ticket_seq == seq) & (ticket_messages.c.direction == "outbound")
    named = _named_ids(event)
    if named:
        found = (await session.execute(select(ticket_messages).where(
            ours, ticket_messages.c.external_message_id.in_(named)))).mappings().first()
        if found is not None:
            return found
    return (await session.execute(select(ticket_messages).where(ours, ticket_messages.c.channel == event.channel)
                                  .order_by(ticket_messages.c.created_at.desc()).limit(1))).mappings().first()
