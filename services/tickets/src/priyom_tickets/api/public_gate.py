"""Who may open a customer's public links: the holder of the contact's key, or staff; and how often.

The two public routes (``/api/v1/contacts/{id}/ticket`` and ``…/satisfaction``) answer a browser with no
account. The contact id in the path says which contact; the key in the query string
(:mod:`priyom_kit.public_links`) proves the caller was given the link. A wrong or missing key gets the same 404
as an unknown contact, so a guess learns nothing. Staff (any valid bearer token) may look up without a key:
the tests and the console find a contact's ticket that way.

Every request to these routes counts against the caller's address (the ``limits`` library, a moving window,
in this process's memory): the form's page polls every few seconds, a guesser sends thousands.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import SecretStr

from priyom_kit.public_links import KEY_PARAM, key_opens
from priyom_kit.rate_windows import open_storage, wait_s


@dataclass
class PublicGate:
    """The shared link secret (None: public links are off) and the per-address limit."""

    secret: SecretStr | None
    per_address: list[RateLimitItem]
    limiter: MovingWindowRateLimiter

    @classmethod
    def build(cls, secret: SecretStr | None, per_address: str) -> "PublicGate":
        return cls(secret, parse_many(per_address), MovingWindowRateLimiter(open_storage("memory://")))

    async def wait_s(self, address: str) -> int | None:
        """Seconds to wait before the next request from ``address``, or None while under the limit."""
        return await wait_s(self.limiter, self.per_address, "public-link", [address])


async def _is_staff(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return await request.app.state.authenticator(token.strip()) is not None


async def _open(request: Request, contact_id: uuid.UUID, key: str | None, *, staff_may: bool) -> uuid.UUID:
    """429 over the limit, 404 without a key that opens the contact (or, where ``staff_may``, a staff token)."""
    gate: PublicGate = request.app.state.public_gate
    address = request.client.host if request.client else "unknown"
    if (wait := await gate.wait_s(address)) is not None:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many requests",
                            headers={"Retry-After": str(wait), "Cache-Control": "no-store"})
    if not key_opens(gate.secret, contact_id, key) and not (staff_may and await _is_staff(request)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no ticket for this contact",
                            headers={"Cache-Control": "no-store"})
    return contact_id


Key = Annotated[str | None, Query(alias=KEY_PARAM, max_length=64, description="The link's key")]


async def looked_up_contact(contact_id: uuid.UUID, request: Request, key: Key = None) -> uuid.UUID:
    return await _open(request, contact_id, key, staff_may=True)


async def customer_contact(contact_id: uuid.UUID, request: Request, key: Key = None) -> uuid.UUID:
    return await _open(request, contact_id, key, staff_may=False)


#: The contact of a public lookup, once the link's key or a staff token opens it.
LookedUpContact = Annotated[uuid.UUID, Depends(looked_up_contact)]
#: The contact of a customer's own act (a rating), once the link's key opens it: staff rate through
#: ``/tickets/{number}/satisfaction``, under their own name.
CustomerContact = Annotated[uuid.UUID, Depends(customer_contact)]
