"""The client attributes routing looks at, read from identity's card, for ``POST /api/v1/route/explain`` given
only a ``client_id``.

The router keeps no client cards: on the bus every contact already carries what routing needs
(:class:`~priyom_contracts.ClientMatch`). A supervisor testing rules names a client by id instead, so the
router asks identity, over HTTP, for its :class:`~priyom_contracts.ClientCard` and keeps the few attributes the
rules look at. Nothing here is logged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx
from pydantic import ValidationError

from priyom_contracts import ClientCard, ServiceContract
from priyom_kit import HttpClient


class ClientNotFound(LookupError):
    pass


class IdentityUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class ClientAttributes:
    sla_tier: str = "standard"
    account_manager: str | None = None
    tags: list[str] = field(default_factory=list)
    contracts: list[ServiceContract] = field(default_factory=list)


class ClientCards:
    """``GET <identity>/api/v1/clients/{id}`` through the service's client for identity, whose token holds a
    reader role there."""

    def __init__(self, identity: HttpClient) -> None:
        self.identity = identity

    async def attributes(self, client_id: uuid.UUID) -> ClientAttributes:
        try:
            response = await self.identity.get(f"/api/v1/clients/{client_id}")
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"identity did not answer: {type(exc).__name__}") from None
        if response.status_code == 404:
            raise ClientNotFound(str(client_id))
        if response.status_code != 200:
            raise IdentityUnavailable(f"identity answered {response.status_code}")
        try:
            card = ClientCard.model_validate_json(response.content)
        except ValidationError:
            raise IdentityUnavailable("identity answered something that is not a client card") from None
        return ClientAttributes(sla_tier=card.sla_tier or "standard", account_manager=card.account_manager,
                                tags=list(card.tags), contracts=list(card.contracts))
