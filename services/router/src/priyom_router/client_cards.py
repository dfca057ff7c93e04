"""Reads a client card from identity's API, for ``POST /api/v1/route/explain`` given only a ``client_id``.

The router keeps no client cards: on the bus every contact already carries what routing needs
(:class:`~priyom_contracts.ClientMatch`). A supervisor testing rules names a client by id instead, so the
router asks identity, over HTTP, for the few attributes the rules look at. Nothing here is logged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from priyom_contracts import ServiceContract


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
    """``GET <identity>/api/v1/clients/{id}`` with a bearer token that holds a reader role there."""

    def __init__(self, base_url: str, token: SecretStr | None, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    async def attributes(self, client_id: uuid.UUID) -> ClientAttributes:
        headers = {"Authorization": f"Bearer {self.token.get_secret_value()}"} if self.token else {}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as http:
                response = await http.get(f"{self.base_url}/api/v1/clients/{client_id}", headers=headers)
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"identity did not answer: {type(exc).__name__}") from None
        if response.status_code == 404:
            raise ClientNotFound(str(client_id))
        if response.status_code != 200:
            raise IdentityUnavailable(f"identity answered {response.status_code}")
        card = response.json()
        return ClientAttributes(
            sla_tier=card.get("sla_tier") or "standard",
            account_manager=card.get("account_manager"),
            tags=list(card.get("tags") or []),
            contracts=[ServiceContract.model_validate(c) for c in card.get("contracts") or []],
        )
