"""Erasure on request (``person.erased`` / ``client.erased``): the portal forgets the person's sign-ins.

The portal keeps an identifier in clear only in its sign-in codes and sessions (a day past their end at most,
app.py's retention). An erasure deletes those of the card (a private client's erasure: the card is the person)
or of the person: theirs by ``person_id``, and any other whose identifier is one the person was known by
(``identifier_digests``), such as the organisation's own address they signed in with. Counts go back to
identity; a repeat deletes nothing more and reports zeros.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ClientErased, Erasure, identifier_digest

from .tables import portal_sessions, portal_sign_in_codes

KEYS = {portal_sessions: "token_hash", portal_sign_in_codes: "id"}


async def _erase(session: AsyncSession, table: Table, erasure: Erasure) -> int:
    card = table.c.client_id == erasure.client_id
    if isinstance(erasure, ClientErased):
        return (await session.execute(delete(table).where(card))).rowcount or 0
    digests = set(erasure.identifier_digests)
    rows = (await session.execute(select(table.c[KEYS[table]], table.c.identifier_value).where(card))).all()
    known = [key for key, value in rows if identifier_digest(value) in digests]
    mine: list[Any] = [table.c.person_id == erasure.person_id] if erasure.person_id else []
    if known:
        mine.append(table.c[KEYS[table]].in_(known))
    if not mine:
        return 0
    return (await session.execute(delete(table).where(card, or_(*mine)))).rowcount or 0


async def redact(sessions: Callable[[], AsyncSession], erasure: Erasure) -> dict[str, int]:
    """Delete the person's sign-in codes and sessions; how many of each went."""
    async with sessions() as session, session.begin():
        return {f"portal.{table.name}": await _erase(session, table, erasure) for table in KEYS}
