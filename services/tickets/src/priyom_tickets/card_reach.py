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
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_kit.driver_statements import any_of

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
    read: dict[uuid.UUID, CardReach | None] | None = session.info.get(_READ)
    if read is not None and client_id in read:
        return read[client_id]
    row = (await session.execute(_LOAD, {"client_id": client_id})).mappings().first()
    return None if row is None else _copy(row)


@asynccontextmanager
async def read_together(session: AsyncSession, client_ids: Iterable[uuid.UUID]) -> AsyncIterator[None]:
    """The copies of these cards read in one statement, which :func:`load` answers from inside the block.

    A batch of arrivals reads each new ticket's copy for its registration notice: one statement a batch instead
    of one a ticket. Nothing an arrival does changes a copy (identity's announcements are handled apart), and
    :func:`keep` and :func:`forget` drop what was read for a card if one ever does.
    """
    wanted = list(dict.fromkeys(client_ids))
    statement = _LOAD_MANY[session.bind is not None and session.bind.dialect.name == "postgresql"]
    read: dict[uuid.UUID, CardReach | None] = dict.fromkeys(wanted)
    for row in (await session.execute(statement, {"client_ids": wanted})).mappings():
        read[row["client_id"]] = _copy(row)
    session.info[_READ] = read
    try:
        yield
    finally:
        session.info.pop(_READ, None)


def _copy(row: Mapping[str, Any]) -> CardReach:
    return CardReach(dict(row["undeliverable"] or {}), tuple(row["emails"] or ()), tuple(row["messengers"] or ()))


#: The session's key for the copies :func:`read_together` read.
_READ = "priyom.tickets.card_reach.read"
_LOAD = select(card_reach).where(card_reach.c.client_id == bindparam("client_id"))
_LOAD_MANY = {postgresql: select(card_reach).where(
    any_of(card_reach.c.client_id, "client_ids", "postgresql" if postgresql else "sqlite", Uuid()))
    for postgresql in (True, False)}


async def keep(session: AsyncSession, client_id: uuid.UUID, reach: CardReach, now: datetime) -> None:
    """Replace the copy for ``client_id`` (delete and insert: one statement shape on SQLite and PostgreSQL)."""
    await forget(session, client_id)  # also drops what read_together read of it
    values: dict[str, Any] = {"client_id": client_id, "undeliverable": dict(reach.undeliverable),
                              "emails": list(reach.emails), "messengers": [dict(m) for m in reach.messengers],
                              "refreshed_at": now}
    await session.execute(card_reach.insert().values(**values))


async def forget(session: AsyncSession, client_id: uuid.UUID) -> None:
    """The card is gone (merged away, deleted): its copy goes too."""
    session.info.get(_READ, {}).pop(client_id, None)
    await session.execute(delete(card_reach).where(card_reach.c.client_id == client_id))
