"""Advisory locks that make concurrent deliveries of one arrival wait for each other (PostgreSQL only)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import BigInteger, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

#: unnest() yields the array's ids in their order, and the locks are taken in that order.
_ADVISORY_LOCKS = text("SELECT pg_advisory_xact_lock(lock_id) FROM unnest(:lock_ids) AS lock_id").bindparams(
    bindparam("lock_ids", type_=ARRAY(BigInteger)))


async def lock_arrivals(session: AsyncSession, keys: Sequence[str]) -> None:
    """Make concurrent deliveries of the same arrivals wait for each other until the first one commits.

    Correctness does not depend on it (the UNIQUE constraints do that, and the year counter rolls back with a
    losing insert), but waiting here lets the second delivery find the first one's record instead of doing
    the work twice. One statement for a batch's arrivals, the locks taken in the order of their ids, as every
    batch takes them, so two batches sharing arrivals wait for each other instead of deadlocking. SQLite
    needs nothing: it runs one writer at a time.
    """
    if session.bind.dialect.name != "postgresql" or not keys:
        return
    await session.execute(_ADVISORY_LOCKS, {"lock_ids": sorted({_lock_id(key) for key in keys})})


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
