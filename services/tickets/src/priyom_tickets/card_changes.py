"""What tickets does when identity announces changed cards (``client.changed.v1``), in two steps.

1. Merges (and their undoing) move tickets between cards (:mod:`.card_merges`), once per message: the move and
   the inbox record share a transaction, as every handler's change does.
2. Cards whose addresses may have changed (an address flagged or cleared, a merge, an edit) are read again from
   identity and kept in :mod:`.card_reach`, so notices route around a dead address. Reading the current card
   is idempotent by nature, so this step runs on every delivery and needs no inbox; when identity cannot be
   reached the message goes round the retries, and the merges, already recorded, are not made twice.

Only cards with a ticket still open are read: a finished ticket sends nothing more.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ClientChange, ClientChanged
from priyom_kit import TransientError

from . import card_merges, card_reach
from .agent_card import IdentityCards
from .lifecycle import FINAL
from .tables import tickets

#: Changes after which a card's addresses may differ from the copy (an identification that absorbed a card
#: counts through its merges; other identifications add what the next contact brings in ``reach`` anyway).
READ_AGAIN = frozenset({ClientChange.FLAGGED, ClientChange.MERGED, ClientChange.UNMERGED, ClientChange.EDITED})
#: Changes after which the copy must go whatever tickets the card has: it holds addresses of a person erased.
FORGET = frozenset({ClientChange.ERASED, ClientChange.DELETED})


async def follow_merges(session: AsyncSession, event: ClientChanged, now: datetime) -> list[str]:
    """Move the tickets the message's merges (or undos) concern; the numbers moved."""
    moved: list[str] = []
    for merge in event.merges:
        if event.change is ClientChange.UNMERGED:
            moved += await card_merges.undo_merge(session, merge, now)
        else:
            moved += await card_merges.follow_merge(session, merge, now)
    return moved


def cards_to_read(event: ClientChanged) -> list[uuid.UUID]:
    """The cards whose addresses the message may have changed (merged-away cards are gone: not them)."""
    gone = {m.source_id for m in event.merges} if event.change is not ClientChange.UNMERGED else set()
    if event.change in READ_AGAIN:
        ids: Iterable[uuid.UUID] = event.client_ids
    else:
        ids = [m.target_id for m in event.merges]
    return [i for i in dict.fromkeys(ids) if i not in gone]


async def forget_erased(session: AsyncSession, event: ClientChanged) -> None:
    """An erasure or a deletion: the cards' copies go (the next change of a card still there reads it again)."""
    if event.change in FORGET:
        for client_id in event.client_ids:
            await card_reach.forget(session, client_id)


async def with_open_tickets(session: AsyncSession, client_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Those of ``client_ids`` with a ticket not yet closed or cancelled."""
    if not client_ids:
        return []
    rows = await session.execute(select(tickets.c.client_id).distinct().where(
        tickets.c.client_id.in_(client_ids), tickets.c.status.not_in([s.value for s in FINAL])))
    return list(rows.scalars())


async def read_cards(cards: IdentityCards, client_ids: list[uuid.UUID]
                     ) -> dict[uuid.UUID, card_reach.CardReach | None]:
    """Each card's reach as identity has it now (None: identity has no such card); empty when tickets has no
    identity configured. Raises ``TransientError`` when identity does not answer, so the message is retried."""
    read: dict[uuid.UUID, card_reach.CardReach | None] = {}
    for client_id in client_ids:
        panel = await cards.panel(client_id)
        if panel.reason == "not_configured":
            return {}
        if panel.card is not None:
            read[client_id] = card_reach.from_card(panel.card)
        elif panel.reason == "not_found":
            read[client_id] = None
        else:
            raise TransientError(f"identity did not give card {client_id} ({panel.reason}); retry later")
    return read


async def keep_cards(session: AsyncSession, read: dict[uuid.UUID, card_reach.CardReach | None],
                     now: datetime) -> None:
    """Replace the copies of the cards read (a card identity no longer has loses its copy)."""
    for client_id, reach in read.items():
        if reach is None:
            await card_reach.forget(session, client_id)
        else:
            await card_reach.keep(session, client_id, reach, now)
