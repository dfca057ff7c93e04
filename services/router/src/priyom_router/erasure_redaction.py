"""Redacting the router's training rows on an erasure request (``person.erased`` / ``client.erased``).

A type correction keeps the subject and text of the corrected contact as a labelled example: the person's
own words. They go; the row stays (contact, ticket number, type, time), so the counts of corrections per type
still add up, and training skips the erased text. The assignments hold ids, teams and the rule trail only.
Idempotent: a repeat sets the same values on the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import Erasure

from .tables import type_corrections

ERASED = "[erased]"
CHUNK = 200


def _any_in(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    if not values:
        return false()
    return or_(*(column.in_(values[i:i + CHUNK]) for i in range(0, len(values), CHUNK)))


async def redact(session: AsyncSession, erasure: Erasure) -> dict[str, int]:
    """Redact in the caller's transaction; the rows redacted per table."""
    scope = or_(_any_in(type_corrections.c.contact_id, erasure.contact_ids),
                _any_in(type_corrections.c.ticket_number, erasure.ticket_numbers))
    result = await session.execute(update(type_corrections).where(scope).values(subject=None, text=ERASED))
    return {"router.type_corrections": result.rowcount or 0}
