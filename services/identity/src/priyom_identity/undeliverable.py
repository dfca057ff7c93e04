"""Email addresses mail cannot reach: flagged on the card so an agent knows to call instead.

Two reports say so: the email channel's ``reply.reported`` with a failed status (the relay refused the
recipient for good) and a bounce that came back later as mail (``Contact.undeliverable``). The address
stays on the card and still identifies its sender: a person whose mailbox is full still writes from it.
A later successful delivery to the address clears the flag, unless the failure was reported after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_kit.driver_statements import any_of

from .canonical_identifiers import EmailRules, InvalidIdentifier, normalise_email
from .matching import EMAIL
from .tables import identifiers

#: What a reason may take on the card (a relay's answer can run long).
MAX_REASON = 500
#: Which of a list of addresses carry a flag, one statement for any length of the list, per dialect.
_FLAGGED = {dialect: select(identifiers.c.value).distinct().where(
    identifiers.c.kind == EMAIL, any_of(identifiers.c.value, "values", dialect),
    identifiers.c.undeliverable_at.is_not(None)) for dialect in ("postgresql", "sqlite")}


def _values(emails: Iterable[str], rules: EmailRules) -> list[str]:
    values = []
    for raw in emails:
        try:
            values.append(normalise_email(raw, rules))
        except InvalidIdentifier:
            continue  # nothing on file can be that address
    return values


async def flag_undeliverable(session: AsyncSession, emails: Iterable[str], *, reason: str | None,
                             at: datetime, rules: EmailRules) -> set[uuid.UUID]:
    """Flag these addresses wherever they are on file; returns the cards that changed.

    An address already flagged keeps its first report (the earliest evidence, and idempotent on a resend).
    """
    values = _values(emails, rules)
    if not values:
        return set()
    result = await session.execute(
        update(identifiers)
        .where(identifiers.c.kind == EMAIL, identifiers.c.value.in_(values), identifiers.c.undeliverable_at.is_(None))
        .values(undeliverable_at=at, undeliverable_reason=(reason or "delivery failed")[:MAX_REASON])
        .returning(identifiers.c.client_id))
    return set(result.scalars().all())


async def clear_undeliverable(session: AsyncSession, email: str, *, delivered_at: datetime,
                              rules: EmailRules) -> set[uuid.UUID]:
    """A delivery to ``email`` succeeded at ``delivered_at``: drop a flag reported before it."""
    values = _values([email], rules)
    if not values:
        return set()
    result = await session.execute(
        update(identifiers)
        .where(identifiers.c.kind == EMAIL, identifiers.c.value.in_(values),
               identifiers.c.undeliverable_at < delivered_at)
        .values(undeliverable_at=None, undeliverable_reason=None)
        .returning(identifiers.c.client_id))
    return set(result.scalars().all())


async def flagged_among(session: AsyncSession, values: Iterable[str]) -> set[str]:
    """Which of these addresses (normalised, :func:`normalised_or_none`) carry a flag anywhere on file: one read
    for a batch of delivery reports, nearly all of which find nothing to clear."""
    values = list(values)
    if not values:
        return set()
    dialect = "postgresql" if session.bind is not None and session.bind.dialect.name == "postgresql" else "sqlite"
    return set((await session.execute(_FLAGGED[dialect], {"values": values})).scalars())


def normalised_or_none(email: str, rules: EmailRules) -> str | None:
    """The address as it is kept on file, or None where nothing on file can be it."""
    values = _values([email], rules)
    return values[0] if values else None
