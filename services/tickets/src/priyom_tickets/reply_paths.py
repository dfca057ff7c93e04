"""Where an answer to the customer goes: the channel they wrote on, else one their card can be reached on.

A customer who wrote through the web form or called has no way back on that channel, but their card may
have an e-mail (the form asks for one) or a Telegram id. So the order is:

1. the ticket's own channel, when a service delivers on it and the customer left an address there;
2. the card's other ways: the channel the card prefers (``reply_channel`` on identity's card), then the
   order ``TICKETS_REPLY_FALLBACK`` gives (e-mail, then Telegram, by default), with the addresses identity
   sent with the latest contact (``ClientMatch.reach``) or that the customer wrote from on this thread;
3. a phone only: the reply becomes a call-back activity (an agent reads it out), never a refusal.

An e-mail address identity flagged undeliverable (a bounce, a relay's refusal: :mod:`.card_reach`) is never
chosen, whichever step would have taken it: the card's other e-mails and messenger ids are tried instead, and
:func:`avoided` names what was passed over, so the agent is told and a notice that finds no way is recorded.

:func:`choose` decides, without I/O; :func:`reply_path` reads what it needs. The console asks the same
function before the agent sends (``GET …/reply-path``), so what it shows is where the reply goes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ClientMatch, ContactRouted, MessengerId, Recipient

from .card_reach import CardReach, load
from .notifications import recipient_of
from .tables import ticket_messages

#: The channel a call-back stands for: no service delivers on it, an agent calls.
PHONE = "phone"


@dataclass(frozen=True)
class ReplyPath:
    """Where one answer goes. ``call_back``: no channel can carry it; an agent calls ``recipient.phone``."""

    channel: str
    recipient: Recipient
    in_reply_to: str | None = None
    call_back: bool = False
    #: Why this way (for the console): "the channel the customer wrote on", "the card's e-mail", …
    because: str = ""
    #: The same as a code, which the console words in the agent's language (reply_path.because.<reason>).
    reason: str = ""


@dataclass(frozen=True)
class Sent:
    """An answer on its way: on ``channel``, or, with ``call_back`` set, an activity for an agent to phone."""

    reply_id: UUID
    channel: str
    call_back: UUID | None = None


def reach_of(client: ClientMatch) -> dict[str, Any] | None:
    """``ClientMatch.reach`` as the ``tickets.reach`` column keeps it."""
    return client.reach.model_dump(mode="json", exclude_none=True) or None


def _usable(channel: str, recipient: Recipient) -> bool:
    """An e-mail answer needs an address; the website chat needs the visitor's chat id, which a message left
    while no agent was online by a visitor who gave an e-mail does not carry (it is answered by e-mail, step 2);
    another messenger's adapter answers the chat it knows."""
    if channel == "email":
        return recipient.email is not None
    if channel == "chat":
        return recipient.messenger is not None
    return True


def choose(ticket_channel: str, latest: Mapping[str, Mapping[str, Any]], reach: Mapping[str, Any] | None, *,
           deliverable: frozenset[str], fallback: Sequence[str], card: CardReach | None = None) -> ReplyPath | None:
    """The path for a ticket on ``ticket_channel``; None when there is no way at all, not even a phone.

    ``latest`` maps a channel to the customer's latest message on it (``sender``, ``thread_key``,
    ``external_message_id``); ``reach`` is the card's addresses (``tickets.reach``); ``card`` is identity's
    latest word on which addresses are dead and which others the card has (:mod:`.card_reach`).
    """
    reach = reach or {}
    card = card or CardReach()
    own = latest.get(ticket_channel)
    own_dead = False
    if ticket_channel in deliverable and own is not None:
        recipient = recipient_of(own)
        own_dead = card.is_undeliverable(recipient.email)
        if _usable(ticket_channel, recipient) and not own_dead:
            return ReplyPath(ticket_channel, recipient, own.get("external_message_id"),
                             because="the channel the customer wrote on", reason="own_channel")
    senders = [m.get("sender") or {} for m in latest.values()]
    prefers = reach.get("prefers")
    for channel in ([prefers] if prefers else []) + [c for c in fallback if c != prefers]:
        if channel not in deliverable or (channel == ticket_channel and not own_dead):
            continue
        if channel == "email":
            address = next((a for a in [reach.get("email"), *card.emails, *(s.get("email") for s in senders)]
                            if a and not card.is_undeliverable(a)), None)
            if address:
                earlier = latest.get("email")
                return ReplyPath("email", Recipient(email=address),
                                 earlier.get("external_message_id") if earlier else None,
                                 because="the e-mail on the client's card", reason="card_email")
            continue
        messenger = next((m for m in [reach.get("messenger"), *card.messengers,
                                      *(s.get("messenger") for s in senders)]
                          if m and m.get("channel") == channel), None)
        if messenger:
            thread = latest.get(channel)
            return ReplyPath(channel, Recipient(messenger=MessengerId.model_validate(messenger),
                                                external_thread_id=thread.get("thread_key") if thread else None),
                             because=f"the client's {channel} on the card", reason="card_messenger")
    phone = reach.get("phone") or next((s["phone"] for s in senders if s.get("phone")), None)
    if phone:
        return ReplyPath(PHONE, Recipient(phone=phone), call_back=True,
                         because="only a phone number is known: an agent calls the client back",
                         reason="phone_only")
    return None


def avoided(latest: Mapping[str, Mapping[str, Any]], reach: Mapping[str, Any] | None,
            card: CardReach | None) -> dict[str, str]:
    """The customer's addresses :func:`choose` passes over because identity flagged them, with the reason."""
    if card is None:
        return {}
    known = [(reach or {}).get("email"), *((m.get("sender") or {}).get("email") for m in latest.values())]
    return {a: card.undeliverable[a.casefold()] for a in dict.fromkeys(known) if card.is_undeliverable(a)}


async def latest_by_channel(session: AsyncSession, seq: int) -> dict[str, Mapping[str, Any]]:
    """The customer's latest message on each channel of the ticket (its sender, thread and message id)."""
    rows = (await session.execute(_CUSTOMER_MESSAGES, {"seq": seq})).mappings().all()
    latest: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        latest.setdefault(row["channel"], row)
    return latest


_CUSTOMER_MESSAGES = (
    select(ticket_messages.c.channel, ticket_messages.c.sender, ticket_messages.c.thread_key,
           ticket_messages.c.external_message_id)
    .where(ticket_messages.c.ticket_seq == bindparam("seq"), ticket_messages.c.direction == "inbound",
           ticket_messages.c.automated.is_(None))
    .order_by(ticket_messages.c.created_at.desc())
)


def where_from(event: ContactRouted) -> dict[str, Any]:
    """The columns of a customer's message a reply is addressed by (what :func:`latest_by_channel` reads
    back): its channel, sender, thread and the channel's own message id."""
    contact = event.contact
    return {"channel": event.channel, "sender": contact.sender.model_dump(mode="json", exclude_none=True),
            "thread_key": contact.thread.external_thread_id,
            # The channel's own id (an e-mail's Message-ID) is what a later reply names in In-Reply-To;
            # the idempotency key stands in where the channel has none.
            "external_message_id": (contact.thread.message_id or event.idempotency_key)[:998]}


def opened_by(event: ContactRouted) -> dict[str, Mapping[str, Any]] | None:
    """:func:`latest_by_channel` of a ticket whose only message is ``event`` (just written), without the read;
    None for a machine's message, which that read leaves out."""
    return {event.channel: where_from(event)} if event.contact.automated is None else None


async def reply_path(session: AsyncSession, ticket: Mapping[str, Any], deliverable: frozenset[str],
                     fallback: Sequence[str],
                     latest: Mapping[str, Mapping[str, Any]] | None = None) -> ReplyPath | None:
    """Where an answer on ``ticket`` goes now (see :func:`choose`); ``latest``, when the caller knows it (a
    ticket just opened by one message: :func:`opened_by`), instead of :func:`latest_by_channel`."""
    if latest is None:
        latest = await latest_by_channel(session, ticket["seq"])
    return choose(ticket["channel"], latest, ticket.get("reach"),
                  deliverable=deliverable, fallback=fallback, card=await load(session, ticket["client_id"]))


async def dead_addresses(session: AsyncSession, ticket: Mapping[str, Any]) -> dict[str, str]:
    """The ticket's customer addresses identity flagged undeliverable (see :func:`avoided`)."""
    return avoided(await latest_by_channel(session, ticket["seq"]), ticket.get("reach"),
                   await load(session, ticket["client_id"]))
