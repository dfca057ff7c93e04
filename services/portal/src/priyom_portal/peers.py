"""What the account pages ask identity and tickets, over HTTP with the portal's service credential.

Each peer is one :class:`~priyom_kit.HttpClient` opened at start and closed at stop (app.py); answers are read
into their ``priyom_contracts`` models. Nothing here logs: the paths carry e-mail addresses and card ids.
"""

from __future__ import annotations

import httpx

from priyom_contracts import ClientCard, CustomerTicket, CustomerTicketList
from priyom_kit import HttpClient

from .sign_in import EMAIL, Account, Identifier


class PeerUnavailable(Exception):
    """Identity or tickets did not answer, or answered with an error: the page says to try again later."""


async def _get(peer: HttpClient, path: str, params: dict[str, str]) -> httpx.Response | None:
    """The answer, None for a 404; :class:`PeerUnavailable` for anything else that is not a 200."""
    try:
        response = await peer.client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise PeerUnavailable(type(exc).__name__) from None
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise PeerUnavailable(f"answered {response.status_code}")
    return response


class Cards:
    """Identity's card of the identifier a customer signs in with."""

    def __init__(self, identity: HttpClient) -> None:
        self.identity = identity

    async def card_of(self, identifier: Identifier) -> ClientCard | None:
        if identifier.kind == EMAIL:
            params = {"email": identifier.value}
        else:
            params = {"messenger": "telegram", "messenger_id": identifier.value}
        response = await _get(self.identity, "/api/v1/clients/lookup", params)
        return ClientCard.model_validate_json(response.content) if response is not None else None


class Requests:
    """Tickets' customer routes: the account's requests, and one of them."""

    def __init__(self, tickets: HttpClient) -> None:
        self.tickets = tickets

    @staticmethod
    def _whose(account: Account) -> dict[str, str]:
        params = {"client_id": str(account.client_id)}
        if account.person_filter is not None:
            params["person_id"] = str(account.person_filter)
        return params

    async def list(self, account: Account) -> CustomerTicketList:
        response = await _get(self.tickets, "/api/v1/customer/tickets", self._whose(account))
        if response is None:
            raise PeerUnavailable("answered 404")
        return CustomerTicketList.model_validate_json(response.content)

    async def one(self, account: Account, number: str) -> CustomerTicket | None:
        response = await _get(self.tickets, f"/api/v1/customer/tickets/{number}", self._whose(account))
        return CustomerTicket.model_validate_json(response.content) if response is not None else None
