"""What turns a claim into a verified identifier, or removes it: a channel's proof during identification, and
an agent's confirmation or rejection. The rules of what counts as proof are in :mod:`.claims`.

Each function runs in the caller's transaction and writes an audit row (ids and the identifier's kind only:
the audit outlives an erasure, so it holds no personal data).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from . import organisation_domains
from .matching import Identifier, Owner
from .owners import forget_owners_read, owners_written
from .store import record_audit
from .tables import identifiers


async def take_proven_claims(session: AsyncSession, owner: Owner, proven: Sequence[Identifier], *,
                             verified_by: str, actor: str) -> set[uuid.UUID]:
    """Make each claim in ``proven`` a verified identifier of ``owner``'s card: confirmed where it already is,
    taken from the card that only claimed it otherwise. The cards whose identifiers changed are returned."""
    changed: set[uuid.UUID] = set()
    for identifier in proven:
        same = and_(identifiers.c.kind == identifier.kind, identifiers.c.value == identifier.value)
        claimed_by = (await session.execute(
            select(identifiers.c.client_id).where(same, identifiers.c.verified.is_(False)))).scalar_one_or_none()
        if claimed_by is None:
            continue  # confirmed or rejected meanwhile: nothing left to take
        values: dict[str, object] = {"verified": True, "verified_by": verified_by}
        if claimed_by != owner.client_id:
            values.update(client_id=owner.client_id, person_id=owner.person_id)
        owners_written(session, [identifier.key])
        await session.execute(update(identifiers).where(same).values(**values))
        await record_audit(session, "claim-proven", owner.client_id, actor=actor,
                           other_id=claimed_by if claimed_by != owner.client_id else None,
                           detail={"kind": identifier.kind, "by": verified_by})
        changed.update({owner.client_id, claimed_by})
    await organisation_domains.refresh(session, changed)
    return changed


class Review(StrEnum):
    """An agent's word on a claim."""

    CONFIRM = "confirm"
    REJECT = "reject"


class NoSuchIdentifier(LookupError):
    """The card has no identifier with this id."""


class AlreadyVerified(Exception):
    """Only a claim can be rejected: a verified identifier is removed by editing the card, not by review."""


async def review_claim(session: AsyncSession, client_id: uuid.UUID, identifier_id: uuid.UUID, review: Review, *,
                       actor: str) -> None:
    """Confirm (the identifier then identifies callers and contacts) or reject (it is removed) a claim.

    Confirming a verified identifier changes nothing; rejecting one raises :class:`AlreadyVerified`.
    """
    own = and_(identifiers.c.id == identifier_id, identifiers.c.client_id == client_id)
    row = (await session.execute(select(identifiers.c.kind, identifiers.c.verified).where(own))).one_or_none()
    if row is None:
        raise NoSuchIdentifier(f"client {client_id} has no identifier {identifier_id}")
    forget_owners_read(session)
    if review is Review.CONFIRM:
        if row.verified:
            return
        await session.execute(update(identifiers).where(own).values(verified=True, verified_by=actor[:200]))
    else:
        if row.verified:
            raise AlreadyVerified("this identifier is verified, not a claim")
        await session.execute(delete(identifiers).where(own))
        await organisation_domains.refresh(session, [client_id])
    await record_audit(session, f"claim-{review.value}ed", client_id, actor=actor, detail={"kind": row.kind})
