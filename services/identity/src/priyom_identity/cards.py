"""What the HTTP API accepts and shows of client cards, beside the card itself (``priyom_contracts.ClientCard``,
which other services read too). Pydantic only: no SQL, no HTTP here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from priyom_contracts import ChannelName, MessengerId, PersonRole, ServiceContract

Name = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
OptionalText = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)] | None
RawPhone = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
LegalId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z-]{4,32}$")]
Notes = Annotated[str, StringConstraints(max_length=10_000)]


class PersonIdentifiers(BaseModel):
    """Ways to recognise a person: what an agent adds when an unknown caller turns out to be a known client."""

    model_config = ConfigDict(extra="forbid")

    phones: list[RawPhone] = Field(default_factory=list, max_length=20)
    emails: list[EmailStr] = Field(default_factory=list, max_length=20)
    messengers: list[MessengerId] = Field(default_factory=list, max_length=20,
                                          description="Messenger accounts, e.g. a Telegram user id")
    portal_login: Annotated[str, StringConstraints(min_length=1, max_length=128,
                                                   strip_whitespace=True)] | None = Field(
        default=None, description="The person's login on the customer web portal")


class NewPerson(PersonIdentifiers):
    full_name: Name
    position: OptionalText = None
    role: PersonRole | None = None


class NewClient(BaseModel):
    """A card entered by a person or loaded as demo data: confirmed, so not provisional."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["org", "person"] = "org"
    name: Name
    sla_tier: Annotated[str, StringConstraints(min_length=1, max_length=64,
                                               strip_whitespace=True)] = "standard"
    account_manager: OptionalText = None
    legal_id: LegalId | None = None
    region: OptionalText = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    notes: Notes | None = None
    contracts: list[ServiceContract] = Field(default_factory=list, max_length=200)
    persons: list[NewPerson] = Field(default_factory=list, max_length=200)
    phones: list[RawPhone] = Field(default_factory=list, max_length=20,
                                   description="The card's own numbers (an office line)")
    emails: list[EmailStr] = Field(default_factory=list, max_length=20)


class ClientUpdate(BaseModel):
    """A partial change to a card (PATCH): only the fields given change; a confirmed card stays confirmed."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["org", "person"] | None = None
    name: Name | None = None
    sla_tier: Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)] | None = None
    account_manager: OptionalText = None
    legal_id: LegalId | None = None
    region: OptionalText = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    notes: Notes | None = None
    contracts: list[ServiceContract] | None = Field(default=None, max_length=200,
                                                    description="Replaces the card's contracts")
    provisional: Literal[False] | None = Field(default=None, description="false: an agent confirmed the card")
    reply_channel: ChannelName | None = Field(
        default=None, description="Where the client wants answers when their own channel has no way back: "
        "telegram or email; null: the deployment's order")


class HistoryEntry(BaseModel):
    """One contact seen on the card: what an agent needs to find what was said before."""

    channel: str
    occurred_at: datetime
    contact_id: uuid.UUID
    person_id: uuid.UUID | None
    ticket_number: str | None = Field(description="The ticket the contact became or joined, once known")


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: uuid.UUID = Field(description="The card merged away; its persons, identifiers and history move")


class CardSummary(BaseModel):
    """A search hit: enough to choose the card, no identifiers."""

    id: uuid.UUID
    kind: Literal["org", "person"]
    name: str
    provisional: bool
    account_manager: str | None
    last_contact_at: datetime | None
