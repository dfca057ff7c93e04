"""Per-address and per-identifier submission limits (the ``limits`` library, moving windows).

Storage: the kit's :func:`~priyom_kit.rate_windows.open_storage` (``memory://``, the default, so ``make up``
works as it is, or ``redis://`` shared by every process of the form); a Redis that does not answer fails the
submission (503), never opens the gate.

Keys. Addresses are counted as they are; e-mails and phone numbers are counted under a SHA-256 of their
normalised form, so the limiter's storage (and a Redis dump) holds no personal data.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from priyom_kit.rate_windows import wait_s


@dataclass(frozen=True)
class Refused:
    """Over a limit: wait ``retry_after_s`` before the next try."""

    retry_after_s: int


def identifier_keys(email: str | None, phone: str | None) -> list[str]:
    """Hashed keys of the identifiers a submission names: the e-mail lowercased, the phone's digits only
    (``+7 (912) 345-67-89`` and ``79123456789`` are one key)."""
    values = []
    if email:
        values.append("e:" + email.strip().lower())
    if phone:
        values.append("p:" + re.sub(r"\D", "", phone))
    return [hashlib.sha256(value.encode()).hexdigest()[:32] for value in values]


class SubmissionLimits:
    """``check_address`` before a body is read, ``check_identifiers`` once the fields are valid."""

    def __init__(self, storage: Storage, per_address: str, per_identifier: str) -> None:
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_address = parse_many(per_address)
        self._per_identifier = parse_many(per_identifier)

    async def check_address(self, address: str) -> Refused | None:
        return await self._hit(self._per_address, "web-address", [address])

    async def check_identifiers(self, keys: list[str]) -> Refused | None:
        return await self._hit(self._per_identifier, "web-identifier", keys)

    async def _hit(self, items: list[RateLimitItem], namespace: str, keys: list[str]) -> Refused | None:
        wait = await wait_s(self._limiter, items, namespace, keys)
        return Refused(wait) if wait is not None else None
