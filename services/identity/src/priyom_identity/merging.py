"""Merging two cards of one client: everything of the source moves to the target, and an audit row says so.

Nothing is dropped: persons, identifiers, contracts and the contact history move as they are, tags are
united, and the target's empty fields are filled from the source. The source card is deleted, and the
audit row (ids and counts, no personal data) is what lets an old ``client_id`` be followed to its new card.
A snapshot in ``card_merges`` (the source's row, what moved, what the target's fields were) lets a person
undo a mistaken merge with :func:`undo_merge`. Runs in the caller's transaction.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import utcnow

from . import organisation_domains, store
from .owners import forget_owners_read
from .tables import card_merges, client_contracts, clients, contact_history, contact_persons, identifiers

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
    forget_owners_read(session)  # the source's identifiers move
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
    moved_ids: dict[str, list[Any]] = {}
    for name, table in _MOVABLE:
        ids = (await session.execute(select(table.c.id).where(table.c.client_id == source))).scalars().all()
        moved_ids[name] = [_jsonable(i) for i in ids]  # history rows have integer ids, the rest UUIDs
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
    before = {field: [_jsonable(getattr(into, field)), _jsonable(value)] for field, value in changes.items()
              if _jsonable(getattr(into, field)) != _jsonable(value)}
    changes["updated_at"] = utcnow()
    await session.execute(update(clients).where(clients.c.id == target).values(**changes))
    await session.execute(delete(clients).where(clients.c.id == source))
    await organisation_domains.refresh(session, [target])  # the source's rows went with it
    await session.execute(card_merges.insert().values(
        target_id=target, source_id=source, actor=actor[:200], merged_at=utcnow(),
        source_card={key: _jsonable(value) for key, value in away._asdict().items()},
        target_before=before, moved=moved_ids))
    await store.record_audit(session, "merge", target, other_id=source, actor=actor,
                             detail={"reason": reason, "moved": moved})
    return moved


#: What a merge moves from one card to the other, each row by its id (the names are the audit's).
_MOVABLE = (("persons", contact_persons), ("identifiers", identifiers), ("contracts", client_contracts),
            ("history", contact_history))
#: Rows re-pointed in one statement when a merge is undone (SQLite binds at most a few thousand values).
_CHUNK = 500


class NothingToUndo(MergeRefused):
    """No merge of that card into this one is on record, or it was undone already."""


async def undo_merge(session: AsyncSession, *, target: uuid.UUID, source: uuid.UUID,
                     actor: str) -> dict[str, int]:
    """Bring ``source`` back as it was before it was merged into ``target``; returns what moved back.

    The card comes back under its old id with the persons, identifiers, contracts and history rows that
    moved, wherever they are still on ``target``. The target's fields go back to their old values unless
    someone edited them since (then the edit stands). What happened after the merge stays where it is:
    contacts recorded on ``target`` since, identifiers added to it since. When ``target`` itself has been
    merged away or deleted since, that comes first: :class:`CardGone`. Runs in the caller's transaction.
    """
    snapshot = (await session.execute(
        select(card_merges).where(card_merges.c.target_id == target, card_merges.c.source_id == source,
                                  card_merges.c.undone_at.is_(None))
        .order_by(card_merges.c.id.desc()).limit(1))).one_or_none()
    if snapshot is None:
        raise NothingToUndo("no merge of this card into that one to undo")
    forget_owners_read(session)  # identifiers move back
    locked = await session.execute(update(clients).where(clients.c.id == target).values(updated_at=utcnow()))
    if not locked.rowcount:
        raise CardGone("the card it was merged into is gone (merged on, or deleted): undo that first")
    if (await session.execute(select(clients.c.id).where(clients.c.id == source))).first() is not None:
        raise NothingToUndo("the merged card exists again")
    card = dict(snapshot.source_card)
    await session.execute(clients.insert().values(**{
        column.name: _restored(column.name, card.get(column.name)) for column in clients.columns
        if column.name in card}))
    moved: dict[str, int] = {}
    for name, table in _MOVABLE:
        ids = [i if isinstance(i, int) else uuid.UUID(i) for i in snapshot.moved.get(name, [])]
        moved[name] = 0
        for start in range(0, len(ids), _CHUNK):
            result = await session.execute(update(table).where(
                table.c.id.in_(ids[start:start + _CHUNK]), table.c.client_id == target).values(client_id=source))
            moved[name] += result.rowcount or 0
    persons = [uuid.UUID(i) for i in snapshot.moved.get("persons", [])]
    # An identifier goes where its person goes: one added to a moved-back person after the merge follows.
    for start in range(0, len(persons), _CHUNK):
        await session.execute(update(identifiers).where(
            identifiers.c.person_id.in_(persons[start:start + _CHUNK]), identifiers.c.client_id == target)
            .values(client_id=source))
    # And a moved-back identifier whose person stayed on the target (folded into one of its persons) keeps
    # no person rather than one on another card.
    stray = select(contact_persons.c.id).where(contact_persons.c.client_id == target).scalar_subquery()
    await session.execute(update(identifiers).where(identifiers.c.client_id == source,
                                                    identifiers.c.person_id.in_(stray)).values(person_id=None))
    current = (await session.execute(select(clients).where(clients.c.id == target))).one()
    restore = {field: _restored(field, old) for field, (old, new) in snapshot.target_before.items()
               if _jsonable(getattr(current, field)) == new}
    if restore:
        if "name" in restore:
            restore["search_name"] = str(restore["name"]).casefold()
        await session.execute(update(clients).where(clients.c.id == target).values(**restore))
    await session.execute(update(card_merges).where(card_merges.c.id == snapshot.id).values(undone_at=utcnow()))
    await organisation_domains.refresh(session, [target, source])
    await store.record_audit(session, "unmerge", target, other_id=source, actor=actor,
                             detail={"moved_back": moved, "merge": snapshot.id})
    return moved


async def forget_merges_of(session: AsyncSession, client_id: uuid.UUID, person_id: uuid.UUID) -> int:
    """Delete the merge snapshots that may hold this person's data (an erasure); those merges can no
    longer be undone. Returns how many went."""
    # The person's id in the moved ids finds merges anywhere along a chain of merges they went through.
    result = await session.execute(delete(card_merges).where(or_(
        card_merges.c.target_id == client_id, card_merges.c.source_id == client_id,
        cast(card_merges.c.moved, Text).contains(str(person_id)))))
    return result.rowcount or 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


#: Snapshot fields that are not plain JSON types, by how to read them back.
_DATETIMES = ("first_contact_at", "last_contact_at", "created_at", "updated_at")


def _restored(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field == "id":
        return uuid.UUID(value)
    if field in _DATETIMES:
        return datetime.fromisoformat(value)
    return value


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
    forget_owners_read(session)  # the source's identifiers change person
    names = {row.id: row.full_name for row in await session.execute(
        select(contact_persons.c.id, contact_persons.c.full_name).where(contact_persons.c.id.in_([source, target])))}
    for table in (identifiers, contact_history):
        await session.execute(update(table).where(table.c.person_id == source).values(person_id=target))
    if names.get(target) is None and names.get(source):
        await session.execute(update(contact_persons).where(contact_persons.c.id == target)
                              .values(full_name=names[source]))
    await session.execute(delete(contact_persons).where(contact_persons.c.id == source))
