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

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from .canonical_identifiers import EmailRules, InvalidIdentifier, normalise_email
from .matching import EMAIL
from .tables import identifiers

#: What a reason may take on the card (a relay's answer can run long).
MAX_REASON = 500


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
