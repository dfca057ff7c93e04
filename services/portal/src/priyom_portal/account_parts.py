"""What the account pages are given (built once in app.py): the key, the peers, the limits and the lifetimes.

The session cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (no other site's form posts with it)
and ``Secure`` unless ``PORTAL_COOKIE_SECURE`` is false, scoped to the whole site (the knowledge base's pages
read it too: a client's ``clients`` articles); it holds a random token whose keyed hash is the session's key in
the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from limits import parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import SecretStr

from priyom_contracts import Event
from priyom_kit.blobs import BlobStore
from priyom_kit.rate_windows import wait_s

from .peers import Cards, Requests
from .reply_files import FileLimits

COOKIE = "priyom_portal_session"
COOKIE_PATH = "/"


class SignInLimits:
    """Codes asked for per identifier and per client address, and codes entered per address, in moving
    windows. Counted in this process's memory: N processes allow N times the limit; each code's own attempt
    count (in the database) is what holds against guessing, whatever the process."""

    def __init__(self, per_identifier: str, per_address: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_identifier = parse_many(per_identifier)
        self._per_address = parse_many(per_address)

    async def code_wait_s(self, identifier: str, address: str) -> int | None:
        """Seconds before another code may be sent for ``identifier`` from ``address``; None: now."""
        by_address = await wait_s(self._limiter, self._per_address, "sign-in-address", [address])
        by_identifier = await wait_s(self._limiter, self._per_identifier, "sign-in-identifier", [identifier])
        waits = [w for w in (by_address, by_identifier) if w is not None]
        return max(waits) if waits else None

    async def entry_wait_s(self, address: str) -> int | None:
        return await wait_s(self._limiter, self._per_address, "sign-in-entry", [address])


@dataclass
class AccountParts:
    """``secret`` None: the account is off (the pages answer 503)."""

    secret: SecretStr | None
    cards: Cards
    requests: Requests
    publish: Callable[[Event], Awaitable[None]]
    limits: SignInLimits
    code_ttl: timedelta
    code_attempts: int
    session_ttl: timedelta
    cookie_secure: bool
    blobs: BlobStore
    files: FileLimits
    public_url: str = ""

    @property
    def sign_in_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/account/code" if self.public_url else ""
