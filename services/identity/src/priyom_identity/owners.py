"""Who owns an identifier: the question every contact's identification asks first, and what a batch reads once.

Each query takes the caller's :class:`AsyncSession` (see :mod:`.store`). Every write of an identifier says
what it changed (:func:`owners_written`, :func:`forget_owners_read`), so what :func:`owners_read_together`
read for a batch of contacts stands exactly as long as it is true.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from .matching import Identifier, Owner
from .tables import clients, identifiers


async def owners_of(session: AsyncSession, wanted: Iterable[Identifier]) -> dict[tuple[str, str], Owner]:
    """Who owns each of ``wanted`` (one query, or none inside :func:`owners_read_together` for identifiers it
    read); identifiers nobody owns are absent from the result."""
    keys = [(i.kind, i.value) for i in wanted]
    if not keys:
        return {}
    read: _OwnersRead | None = session.info.get(_OWNERS_READ)
    if read is not None and read.current.issuperset(keys):
        return {key: read.owners[key] for key in keys if key in read.owners}
    return await _read(session, keys)


@asynccontextmanager
async def owners_read_together(session: AsyncSession, wanted: Iterable[Identifier]) -> AsyncIterator[None]:
    """The owners of ``wanted`` read in one statement, which :func:`owners_of` answers from inside the block.

    A batch of contacts asks each sender's owners in turn: one statement a batch instead of one a contact. An
    answer read here stands until the block writes the identifier: every write says so, :func:`owners_written`
    for the identifiers it added or proved, :func:`forget_owners_read` when it moved or removed identifiers it
    does not list (a merge, an erasure), and the next question about them goes to the database. A write this
    misses is still caught by ``UNIQUE(kind, value)`` (a card made for an identifier read as free clashes and
    the batch is identified again one contact at a time)."""
    keys = list(dict.fromkeys((i.kind, i.value) for i in wanted))
    session.info[_OWNERS_READ] = _OwnersRead(set(keys), await _read(session, keys) if keys else {})
    try:
        yield
    finally:
        session.info.pop(_OWNERS_READ, None)


async def _read(session: AsyncSession, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Owner]:
    rows = await session.execute(_OWNERS_OF, {"keys": keys})
    return {(r.kind, r.value): Owner(r.client_id, r.person_id, r.provisional, r.verified) for r in rows}


def owners_written(session: AsyncSession, keys: Iterable[tuple[str, str]]) -> None:
    """These identifiers were added or changed in the session: what the block read of them no longer stands."""
    read: _OwnersRead | None = session.info.get(_OWNERS_READ)
    if read is not None:
        read.current.difference_update(keys)


def forget_owners_read(session: AsyncSession) -> None:
    """Identifiers moved or went in the session (which, the caller does not list): nothing read stands."""
    session.info.pop(_OWNERS_READ, None)


@dataclass
class _OwnersRead:
    #: The identifiers whose reading still stands, and who owned those that had an owner.
    current: set[tuple[str, str]]
    owners: dict[tuple[str, str], Owner]


#: The session's key for what :func:`owners_read_together` read.
_OWNERS_READ = "priyom.identity.owners.read"


_OWNERS_OF = (
    select(identifiers.c.kind, identifiers.c.value, identifiers.c.client_id, identifiers.c.person_id,
           clients.c.provisional, identifiers.c.verified)
    .join(clients, clients.c.id == identifiers.c.client_id)
    .where(tuple_(identifiers.c.kind, identifiers.c.value).in_(bindparam("keys", expanding=True)))
)
