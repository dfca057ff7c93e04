"""Identity's client card, as an agent sees it beside a ticket: read over HTTP, trimmed to what an agent needs.

Tickets keeps only the client's id and a display name; the full card (organisation, contact persons with
their phones, emails and messenger ids, account manager, SLA tier, contracts, tags, and addresses mail no
longer reaches) lives in identity. Tickets reads it server-side with its own bearer token, so the agent's
browser never talks to identity and needs no identity account.

When identity is not configured, does not answer in time, or has no such card, the answer says so
(``available: false`` with a reason) instead of failing: the console then shows what tickets itself knows.
Nothing here logs a card or an identifier, only the outcome.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import httpx
from pydantic import BaseModel, Field, ValidationError

from priyom_contracts import ClientCard, ServiceContract
from priyom_kit import HttpClient
from priyom_kit.logging import get_logger

log = get_logger("priyom.tickets.agent_card")

#: Why a card is missing: no ``TICKETS_IDENTITY_URL``; identity did not answer (or answered an error);
#: identity has no such card; identity refused tickets' token.
Unavailable = Literal["not_configured", "unreachable", "not_found", "refused"]

#: Largest card body accepted from identity (a card with hundreds of persons is well under it).
MAX_CARD_BYTES = 2 * 1024 * 1024


class ContactPoint(BaseModel):
    """A phone, email or messenger id of the card or of one of its persons."""

    kind: str = Field(description='"phone", "email" or "messenger:<channel>"')
    value: str
    extension: str | None = None
    undeliverable: bool = Field(default=False, description="Mail to this address failed for good")
    undeliverable_reason: str | None = None
    verified: bool = Field(default=True, description="False: only claimed by a web form, a mail or the webhook; "
                           "it identifies no caller until an agent confirms it in identity")


class Person(BaseModel):
    full_name: str | None
    position: str | None = None
    role: str | None = Field(default=None, description="representative (may sign) or consumer")
    erased: bool = Field(default=False, description="Personal data removed on request")
    contacts: list[ContactPoint] = Field(default_factory=list)


class AgentCard(BaseModel):
    """The fields of identity's card an agent needs next to a ticket (no audit or matching internals)."""

    kind: Literal["org", "person"]
    name: str = Field(description="The organisation's name, or the private client's")
    legal_id: str | None = None
    region: str | None = None
    sla_tier: str
    account_manager: str | None = None
    provisional: bool = Field(description="Made from a first contact; nobody has confirmed it yet")
    tags: list[str] = Field(default_factory=list)
    notes: str | None = None
    contracts: list[ServiceContract] = Field(default_factory=list)
    persons: list[Person] = Field(default_factory=list)
    contacts: list[ContactPoint] = Field(default_factory=list, description="The card's own, of no person")
    undeliverable: bool = Field(default=False, description="Some email address of the card bounces for good")
    last_contact_at: datetime | None = None

    @classmethod
    def from_identity(cls, card: ClientCard) -> AgentCard:
        """Identity's card, with each identifier put under the person it belongs to."""
        points: dict[uuid.UUID | None, list[ContactPoint]] = {}
        for ident in card.identifiers:
            point = ContactPoint(kind=ident.kind, value=ident.value, extension=ident.extension,
                                 undeliverable=ident.undeliverable_at is not None,
                                 undeliverable_reason=ident.undeliverable_reason, verified=ident.verified)
            points.setdefault(ident.person_id, []).append(point)
        persons = [Person(full_name=p.full_name, position=p.position, role=p.role, erased=p.erased,
                          contacts=points.pop(p.id, [])) for p in card.persons]
        own = points.pop(None, [])
        own += [point for rest in points.values() for point in rest]  # a person identity did not list
        everything = own + [c for p in persons for c in p.contacts]
        return cls(kind=card.kind, name=card.name, legal_id=card.legal_id, region=card.region,
                   sla_tier=card.sla_tier or "standard", account_manager=card.account_manager,
                   provisional=card.provisional, tags=list(card.tags), notes=card.notes,
                   contracts=list(card.contracts), persons=persons, contacts=own,
                   undeliverable=any(c.undeliverable for c in everything), last_contact_at=card.last_contact_at)


class ClientPanel(BaseModel):
    """Always 200: ``available`` false (with ``reason``) when identity cannot give the card right now."""

    client_id: uuid.UUID
    available: bool
    reason: Unavailable | None = None
    card: AgentCard | None = None


class IdentityCards:
    """Reads cards from identity: ``GET <identity>/api/v1/clients/{id}`` through the service's client for
    identity, whose token holds a reader role there and which follows a merged card's 308 to the card it
    became (same origin, so the token follows). Without a client (no ``TICKETS_IDENTITY_URL``) every card is
    ``not_configured``.
    """

    def __init__(self, identity: HttpClient | None) -> None:
        self.identity = identity

    async def panel(self, client_id: uuid.UUID) -> ClientPanel:
        if self.identity is None:
            return ClientPanel(client_id=client_id, available=False, reason="not_configured")
        try:
            response = await self.identity.get(f"/api/v1/clients/{client_id}")
        except httpx.HTTPError as exc:
            log.warning("identity card unavailable", reason="unreachable", error=type(exc).__name__)
            return ClientPanel(client_id=client_id, available=False, reason="unreachable")
        if response.status_code == 404:
            return ClientPanel(client_id=client_id, available=False, reason="not_found")
        if response.status_code in (401, 403):
            log.warning("identity refused tickets' token", status=response.status_code)
            return ClientPanel(client_id=client_id, available=False, reason="refused")
        if response.status_code != 200 or len(response.content) > MAX_CARD_BYTES:
            log.warning("identity card unavailable", reason="unreachable", status=response.status_code)
            return ClientPanel(client_id=client_id, available=False, reason="unreachable")
        try:
            card = AgentCard.from_identity(ClientCard.model_validate_json(response.content))
        except ValidationError as exc:
            log.warning("identity card unreadable", error=type(exc).__name__)
            return ClientPanel(client_id=client_id, available=False, reason="unreachable")
        return ClientPanel(client_id=client_id, available=True, card=card)
