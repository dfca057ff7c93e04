"""Erasing a person's personal data on request (152-FZ art. 21, GDPR art. 17) while keeping statistics.

What goes: the person's phones, emails and messenger ids, their name and position; on a private person's
card also the card's name, notes, legal id and its own identifiers, because there the card *is* the person.
What stays: the person row (marked erased), the contact history (channel, time, ticket number: no personal
data) and the tickets elsewhere, so counts and SLA statistics still add up. An audit row records who
erased what, by id and count only. A later contact from the same number is, correctly, a stranger.
The snapshots kept to undo merges of the card go too (they hold names and notes): such a merge can no
longer be undone.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import utcnow

from . import store
from .merging import forget_merges_of
from .tables import clients, contact_persons, identifiers

#: What an erased private person's card is called from then on.
ERASED_NAME = "Удалено по запросу"


class NothingToErase(LookupError):
    """No such person."""


async def erase_person(session: AsyncSession, person_id: uuid.UUID, *, actor: str) -> uuid.UUID:
    """Remove the person's personal data; returns the id of their card. Runs in the caller's transaction."""
    client_id = await store.person_client(session, person_id)
    if client_id is None:
        raise NothingToErase("no such person")
    kind = (await session.execute(select(clients.c.kind).where(clients.c.id == client_id))).scalar_one()
    owned = identifiers.c.person_id == person_id
    if kind == "person":
        owned = owned | ((identifiers.c.client_id == client_id) & identifiers.c.person_id.is_(None))
    removed = (await session.execute(delete(identifiers).where(owned))).rowcount or 0
    await session.execute(update(contact_persons).where(contact_persons.c.id == person_id)
                          .values(full_name=None, position=None, erased_at=utcnow()))
    if kind == "person":
        await store.update_client(session, client_id, {"name": ERASED_NAME, "notes": None, "legal_id": None})
    snapshots = await forget_merges_of(session, client_id, person_id)
    await store.record_audit(session, "erase", client_id, actor=actor,
                             detail={"person_id": str(person_id), "identifiers_removed": removed,
                                     "merge_snapshots_removed": snapshots})
    return client_id
