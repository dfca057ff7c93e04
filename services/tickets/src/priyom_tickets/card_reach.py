"""Which of a client's addresses identity says mail no longer reaches, and which still do: a per-client copy.

``ClientMatch.reach`` (kept on each ticket) leaves flagged addresses out, but only as of the customer's latest
contact: a bounce of our own notice flags the address after that, and the ticket would go on writing to it.
So when identity announces a flag (``client.changed.v1``, ``flagged``, and merges and edits, which change what
a card holds), tickets reads the card once over HTTP and keeps here what :mod:`.reply_paths` needs to route
around the dead address: the flagged e-mails (with identity's reason, for the agent) and the card's other
deliverable e-mails and messenger ids, verified ones first. A card never announced has no row, and the
ticket's own ``reach`` decides alone, as before. Tickets writes this table itself: it is a cache of identity's
card, no part of a ticket's course.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from .agent_card import AgentCard, ContactPoint
from .tables import card_reach

EMAIL = "email"
MESSENGER_PREFIX = "messenger:"


@dataclass(frozen=True)
class CardReach:
    """``undeliverable``: casefolded address → identity's reason; ``emails`` and ``messengers``: the card's
    deliverable ones, verified first (a messenger as ``{"channel", "user_id"}``)."""

    undeliverable: Mapping[str, str] = field(default_factory=dict)
    emails: tuple[str, ...] = ()
    messengers: tuple[Mapping[str, str], ...] = ()

    def is_undeliverable(self, email: str | None) -> bool:
        return email is not None and email.casefold() in self.undeliverable


def from_card(card: AgentCard) -> CardReach:
    """What routing needs from identity's card, as the agent panel reads it."""
    points: list[ContactPoint] = [*card.contacts, *(c for p in card.persons for c in p.contacts)]
    points.sort(key=lambda c: not c.verified)  # stable: identity's order within each group
    flagged = {c.value.casefold(): c.undeliverable_reason or "undeliverable"
               for c in points if c.kind == EMAIL and c.undeliverable}
    emails = tuple(dict.fromkeys(c.value for c in points if c.kind == EMAIL and not c.undeliverable))
    messengers = tuple({"channel": c.kind[len(MESSENGER_PREFIX):], "user_id": c.value}
                       for c in points if c.kind.startswith(MESSENGER_PREFIX))
    return CardReach(flagged, emails, messengers)


async def load(session: AsyncSession, client_id: uuid.UUID) -> CardReach | None:
    """The copy for ``client_id``; None when identity never announced a change of the card."""
    row = (await session.execute(_LOAD, {"client_id": client_id})).mappings().first()
    if row is None:
        return None
    return CardReach(dict(row["undeliverable"] or {}), tuple(row["emails"] or ()),
                     tuple(row["messengers"] or ()))


_LOAD = select(card_reach).where(card_reach.c.client_id == bindparam("client_id"))


async def keep(session: AsyncSession, client_id: uuid.UUID, reach: CardReach, now: datetime) -> None:
    """Replace the copy for ``client_id`` (delete and insert: one statement shape on SQLite and PostgreSQL)."""
    await forget(session, client_id)
    values: dict[str, Any] = {"client_id": client_id, "undeliverable": dict(reach.undeliverable),
                              "emails": list(reach.emails), "messengers": [dict(m) for m in reach.messengers],
                              "refreshed_at": now}
    await session.execute(card_reach.insert().values(**values))


async def forget(session: AsyncSession, client_id: uuid.UUID) -> None:
    """The card is gone (merged away, deleted): its copy goes too."""
    await session.execute(delete(card_reach).where(card_reach.c.client_id == client_id))
