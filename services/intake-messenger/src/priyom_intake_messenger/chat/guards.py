"""Who may open the chat and how often: site keys bound to origins, and rate limits per visitor and address.

A site key is public (it is in the page's HTML); what makes it the company's own is the list of origins it
may be used from, checked against the ``Origin`` a browser always sends with a WebSocket handshake and a page
cannot forge. A handshake with no ``Origin`` is not from a browser and is refused too.

Limits count connections and messages of one address together, and messages of one visitor, in the kit's
moving windows (:mod:`priyom_kit.rate_windows`), under namespaces of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from limits import parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from priyom_kit.rate_windows import wait_s


def _origin(value: str) -> str:
    url = urlsplit(value.strip().lower())
    return f"{url.scheme}://{url.netloc}"


class SiteKeys:
    """``allows(site, origin)``: whether a page of ``origin`` may use the chat under the key ``site``."""

    def __init__(self, sites: Mapping[str, Sequence[str]]) -> None:
        self._origins = {key: frozenset(_origin(o) for o in origins) for key, origins in sites.items()}

    def __bool__(self) -> bool:
        return bool(self._origins)

    def allows(self, site: str | None, origin: str | None) -> bool:
        if not site or not origin or origin.strip().lower() == "null":
            return False
        return _origin(origin) in self._origins.get(site, frozenset())


class ChatLimits:
    """``address(ip)`` for a connection, ``message(visitor, ip)`` for each message: None while allowed, else
    the whole seconds to wait."""

    def __init__(self, storage: Storage, per_visitor: str, per_address: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_visitor = parse_many(per_visitor)
        self._per_address = parse_many(per_address)

    async def address(self, address: str) -> int | None:
        return await wait_s(self._limiter, self._per_address, "chat-address", [address])

    async def message(self, visitor: str, address: str) -> int | None:
        waits = [
            await wait_s(self._limiter, self._per_visitor, "chat-visitor", [visitor]),
            await self.address(address),
        ]
        known = [w for w in waits if w is not None]
        return max(known) if known else None
