"""Merging two cards of one client: everything of the source moves to the target, and an audit row says so.

Nothing is dropped: persons, identifiers, contracts and the contact history move as they are, tags are
united, and the target's empty fields are filled from the source. The source card is deleted, and the
audit row (ids and counts, no personal data) is what lets an old ``client_id`` be followed to its new card.
Runs in the caller's transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import utcnow

from . import store
from .tables import client_contracts, clients, contact_history, contact_persons, identifiers

#: Fields a merge copies from the source when the target has none.
_FILLABLE = ("account_manager", "legal_id", "region")


class MergeRefused(ValueError):
    """The two ids cannot be merged (the same card, or one does not exist). The message says which."""


class CardGone(MergeRefused):
    """A card to merge does not exist: never did, or a concurrent merge took it first (then a retry,
    reading again, finds where it went)."""


async def merge_cards(session: AsyncSession, *, target: uuid.UUID, source: uuid.UUID, actor: str,
                      reason: str) -> dict[str, int]:
    """Move everything of ``source`` into ``target`` and delete ``source``; returns what moved, by kind."""
    if target == source:
        raise MergeRefused("a card cannot be merged into itself")
    # Write first, read after: the update takes the row locks (PostgreSQL) or the write lock (SQLite), so a
    # concurrent merge of the same card has either finished (and we see the card gone) or waits for us.
    locked = await session.execute(update(clients).where(clients.c.id.in_([target, source]))
                                   .values(updated_at=utcnow()))
    if locked.rowcount != 2:
        raise CardGone("one of the two cards does not exist (or was just merged away)")
    rows = {r.id: r for r in (await session.execute(
        select(clients).where(clients.c.id.in_([target, source])))).all()}
    into, away = rows[target], rows[source]
    moved: dict[str, int] = {}
    for name, table in (("persons", contact_persons), ("identifiers", identifiers),
                        ("contracts", client_contracts), ("history", contact_history)):
        result = await session.execute(
            update(table).where(table.c.client_id == source).values(client_id=target))
        moved[name] = result.rowcount or 0
    changes: dict[str, object] = {field: getattr(away, field) for field in _FILLABLE
                                  if getattr(into, field) is None and getattr(away, field) is not None}
    changes["tags"] = list(dict.fromkeys([*(into.tags or []), *(away.tags or [])]))
    if away.notes:
        changes["notes"] = "\n\n".join(filter(None, [into.notes, away.notes]))
    changes["first_contact_at"] = _earliest(into.first_contact_at, away.first_contact_at)
    changes["last_contact_at"] = _latest(into.last_contact_at, away.last_contact_at)
    # A card a person confirmed stays confirmed; merging two guesses is still a guess.
    changes["provisional"] = bool(into.provisional and away.provisional)
    changes["updated_at"] = utcnow()
    await session.execute(update(clients).where(clients.c.id == target).values(**changes))
    await session.execute(delete(clients).where(clients.c.id == source))
    await store.record_audit(session, "merge", target, other_id=source, actor=actor,
                             detail={"reason": reason, "moved": moved})
    return moved


def _earliest(a, b):  # type: ignore[no-untyped-def]
    return min((x for x in (a, b) if x is not None), default=None)


def _latest(a, b):  # type: ignore[no-untyped-def]
    return max((x for x in (a, b) if x is not None), default=None)


async def fold_person(session: AsyncSession, *, source: uuid.UUID, target: uuid.UUID) -> None:
    """One human entered twice on a card: identifiers and history of ``source`` join ``target``.

    Used when a messenger vouched that two sightings are one person (Telegram contact sharing).
    """
    if source == target:
        return
    names = {row.id: row.full_name for row in await session.execute(
        select(contact_persons.c.id, contact_persons.c.full_name).where(contact_persons.c.id.in_([source, target])))}
    for table in (identifiers, contact_history):
        await session.execute(update(table).where(table.c.person_id == source).values(person_id=target))
    if names.get(target) is None and names.get(source):
        await session.execute(update(contact_persons).where(contact_persons.c.id == target)
                              .values(full_name=names[source]))
    await session.execute(delete(contact_persons).where(contact_persons.c.id == source))
