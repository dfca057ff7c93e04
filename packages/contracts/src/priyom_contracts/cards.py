"""Identity's client card as its HTTP API answers it (``GET /api/v1/clients/{id}`` and the card's other routes).

Identity answers with these models, and the services that read a card over HTTP (the router explaining a route
for a ``client_id``, tickets showing an agent the ticket's client) read them, never a raw dict.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from .base import ChannelName, Contract
from .contacts import ServiceContract

#: What a contact person is to their organisation: may sign for it, or only uses the service.
PersonRole = Literal["representative", "consumer"]


class IdentifierView(Contract):
    """A phone, email or messenger id identity recognises the card, or one of its persons, by."""

    id: uuid.UUID
    kind: str = Field(description='"phone", "email" or "messenger:<channel>"')
    value: str = Field(description="The normalised value identity matches on (E.164, lower-case email)")
    extension: str | None = None
    person_id: uuid.UUID | None = Field(default=None, description="None: the identifier is the card's own")
    undeliverable_at: datetime | None = Field(
        default=None, description="Mail to this address failed for good (reported then); it still identifies")
    undeliverable_reason: str | None = None
    verified: bool = Field(
        default=True, description="False: an unverified claim (typed into the web form, a mail's From, the JSON "
        "webhook); it identifies no caller and fills no pop-up until an agent confirms it or a channel proves it")
    verified_by: str | None = Field(
        default=None, description='Who verified it: "channel:<name>" for a proof, the agent for a confirmation')


class PersonView(Contract):
    """A contact person of the card."""

    id: uuid.UUID
    full_name: str | None
    position: str | None
    role: PersonRole | None = Field(default=None, description="representative (may sign) or consumer")
    erased: bool = Field(default=False, description="Personal data removed on request (152-FZ / GDPR)")


class ClientCard(Contract):
    """A client with its contact persons and every identifier identity recognises it by."""

    id: uuid.UUID
    kind: Literal["org", "person"]
    name: str
    sla_tier: str
    account_manager: str | None
    provisional: bool = Field(description="Created from a first contact; not yet confirmed by a person")
    first_contact_at: datetime | None
    last_contact_at: datetime | None
    created_at: datetime
    updated_at: datetime
    legal_id: str | None = Field(default=None, description="INN or another registration number")
    region: str | None = None
    tags: list[str] = Field(default_factory=list)
    notes: str | None = None
    reply_channel: ChannelName | None = Field(
        default=None, description="Where the client wants answers when their own channel has no way back "
        "(email, telegram); None: the deployment's order")
    contracts: list[ServiceContract] = Field(default_factory=list)
    persons: list[PersonView]
    identifiers: list[IdentifierView]
    missing_fields: list[str] = Field(default_factory=list,
                                      description="Required fields an agent still has to fill in")
    matched_identifier: uuid.UUID | None = Field(
        default=None, description="Lookup only: the id of the identifier the card was found by (the portal sends "
        "a sign-in code only to that identifier, and only when it is verified)")
