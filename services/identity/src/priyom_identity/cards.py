"""The client card as the HTTP API shows and accepts it. Pydantic only: no SQL, no HTTP here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Name = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
OptionalText = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)] | None
RawPhone = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]


class IdentifierView(BaseModel):
    id: uuid.UUID
    kind: str = Field(description='"phone", "email" or "messenger:<channel>"')
    value: str = Field(description="The normalised value identity matches on (E.164, lower-case email)")
    extension: str | None = None
    person_id: uuid.UUID | None = Field(default=None, description="None: the identifier is the card's own")


class PersonView(BaseModel):
    id: uuid.UUID
    full_name: str | None
    position: str | None


class ClientCard(BaseModel):
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
    persons: list[PersonView]
    identifiers: list[IdentifierView]


class NewPerson(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: Name
    position: OptionalText = None
    phones: list[RawPhone] = Field(default_factory=list, max_length=20)
    emails: list[EmailStr] = Field(default_factory=list, max_length=20)


class NewClient(BaseModel):
    """A card entered by a person or loaded as demo data: confirmed, so not provisional."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["org", "person"] = "org"
    name: Name
    sla_tier: Annotated[str, StringConstraints(min_length=1, max_length=64,
                                               strip_whitespace=True)] = "standard"
    account_manager: OptionalText = None
    persons: list[NewPerson] = Field(default_factory=list, max_length=200)
    phones: list[RawPhone] = Field(default_factory=list, max_length=20,
                                   description="The card's own numbers (an office line)")
    emails: list[EmailStr] = Field(default_factory=list, max_length=20)
