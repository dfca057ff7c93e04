"""The telephony lookup: one request in, one reply out, cache first. Used by the bus request/reply handler.

Answers must be fast and must never fail the caller: a request that cannot be read or an identifier that
cannot be parsed gets ``found = False`` with ``error`` saying why, so the PBX shows an unknown caller
instead of waiting for a timeout.
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from priyom_contracts import ClientLookupReply, ClientLookupRequest

from ..canonical_identifiers import (
    InvalidIdentifier,
    normalise_email,
    normalise_messenger_id,
    normalise_phone,
)
from ..matching import EMAIL, PHONE, Identifier, messenger_kind
from ..policy import MatchPolicy
from .cache import LookupCache, LookupHit
from .reader import LookupReader

_NO_REQUEST_ID = uuid.UUID(int=0)
#: Spellings of numbers remembered with their E.164 form: a PBX sends the same few thousand numbers all
#: day, and parsing one costs more than the cache lookup it leads to.
PHONE_SPELLINGS = 65_536


@lru_cache(maxsize=PHONE_SPELLINGS)
def _e164(raw: str, region: str) -> str:
    return normalise_phone(raw, region).e164


def request_identifiers(request: ClientLookupRequest, policy: MatchPolicy) -> list[Identifier]:
    """The request's identifiers, strongest first (the order :mod:`priyom_identity.matching` uses). Raises on a bad one."""
    wanted: list[Identifier] = []
    if request.messenger is not None:
        wanted.append(Identifier(messenger_kind(request.messenger.channel),
                                 normalise_messenger_id(request.messenger.user_id), request.messenger.user_id))
    if request.phone:
        wanted.append(Identifier(PHONE, _e164(request.phone, policy.region), request.phone))
    if request.email:
        wanted.append(Identifier(EMAIL, normalise_email(str(request.email), policy.email), str(request.email)))
    return wanted


class ClientLookup:
    """Looks clients up by identifier through :class:`LookupCache`; built once in ``app.py``."""

    def __init__(self, reader: LookupReader, cache: LookupCache, policy: MatchPolicy) -> None:
        self.reader = reader
        self.cache = cache
        self.policy = policy

    async def answer_json(self, body: bytes) -> ClientLookupReply:
        """The reply to one request as it came off the wire (JSON, or anything else); never raises."""
        try:
            data: Any = json.loads(body)
        except ValueError:
            data = None  # not JSON at all: answered like any unreadable request
        return await self.answer(data)

    async def answer(self, body: Any) -> ClientLookupReply:
        """The reply to one raw request body; never raises for bad input."""
        try:
            request = ClientLookupRequest.model_validate(body)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors())
            return ClientLookupReply(request_id=request_id_of(body), found=False,
                                     error=f"invalid lookup request ({fields})"[:500])
        try:
            wanted = request_identifiers(request, self.policy)
        except InvalidIdentifier as exc:
            return ClientLookupReply(request_id=request.request_id, found=False, error=str(exc))
        if not wanted:
            return ClientLookupReply(request_id=request.request_id, found=False,
                                     error="give a phone, an email or a messenger id")
        hit = await self.find(wanted)
        if hit is None:
            return ClientLookupReply(request_id=request.request_id, found=False)
        return ClientLookupReply(request_id=request.request_id, found=True, client_id=hit.client_id,
                                 person_id=hit.person_id, display_name=hit.display_name[:500],
                                 account_manager=hit.account_manager, sla_tier=hit.sla_tier,
                                 organisation=hit.organisation and hit.organisation[:500])

    async def find(self, wanted: list[Identifier]) -> LookupHit | None:
        """The card of the strongest known identifier: from the cache, else one query (then cached).

        Only the strongest identifier may answer from the cache: a cached phone must not win over a
        messenger id the cache has not seen, which may belong to another card.
        """
        cached = self.cache.get(wanted[0].key)
        if cached is not None:
            return cached
        generation = self.cache.generation
        hits = await self.reader.hits(wanted)
        for identifier in wanted:
            if identifier.key in hits:
                self.cache.put(identifier.key, hits[identifier.key], generation)
                return hits[identifier.key]
        return None


def request_id_of(body: Any) -> uuid.UUID:
    """The request id a raw body carries, or the nil UUID, so even a bad request gets a reply it can match."""
    try:
        return uuid.UUID(str(body.get("request_id"))) if isinstance(body, dict) else _NO_REQUEST_ID
    except ValueError:
        return _NO_REQUEST_ID
