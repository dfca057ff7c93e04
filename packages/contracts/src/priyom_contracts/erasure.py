"""Erasure on request (152-FZ art. 21, GDPR art. 17): identity erases a person, every other store follows.

Identity owns the card, so it decides what an erasure covers and tells the services which of *their* records
concern the person, by reference only: the contacts, the ticket numbers and digests of the identifiers the
person was known by. None of that is personal data in itself, so the messages may sit in the journal and in
dead letters after the erasure without undoing it. Each service redacts what it holds and answers with an
:class:`ErasureReported` of counts (never the data), which identity keeps as the erasure's report.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, ClassVar

from pydantic import Field

from .base import Contract, Event, TicketNumber

#: The services that keep personal data and report an erasure: identity waits for all of them.
ERASURE_REPORTERS: tuple[str, ...] = ("tickets", "router", "intake-email", "intake-messenger", "portal")

#: Most references in one message; a person with more contacts than this is erased in several messages.
MAX_ERASED_REFERENCES = 10_000


def identifier_digest(value: str) -> str:
    """What a service compares a stored address with: sha256 of the lower-cased, stripped value (an
    e-mail address, an E.164 phone, a messenger's user id), so the erasure names no identifier in clear."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


class Erasure(Event):
    """What both erasure messages carry; ``correlation_id`` is the erasure request's id."""

    carries_personal_data: ClassVar[bool] = False

    erasure_id: uuid.UUID = Field(description="The erasure request: the same in every repeat of it")
    client_id: uuid.UUID
    person_id: uuid.UUID | None = None
    contact_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_ERASED_REFERENCES,
                                         description="Every contact identity matched to the person")
    ticket_numbers: list[TicketNumber] = Field(default_factory=list, max_length=MAX_ERASED_REFERENCES,
                                               description="The tickets of those contacts")
    identifier_digests: list[str] = Field(
        default_factory=list, max_length=1000,
        description="identifier_digest() of each phone, e-mail and messenger id the person was known by")
    contact_key_digests: list[str] = Field(
        default_factory=list, max_length=MAX_ERASED_REFERENCES,
        description="sha256 (hex) of each of those contacts' idempotency keys, by which intakes index their records")


class PersonErased(Erasure):
    """A contact person of an organisation's card was erased (``person.erased.v1.api``): redact what concerns
    them; the organisation's card and its other persons stay."""

    event_type = "person.erased"


class ClientErased(Erasure):
    """A private person's card was erased (``client.erased.v1.api``): the card is the person, so everything
    of the card (``client_id``) goes, whichever of its contacts it was."""

    event_type = "client.erased"


class ErasureReported(Event):
    """A service has redacted what it held for an erasure (``erasure.reported.v1.<service>``): counts per
    store, never the data. Sent again, with the same counts or fewer, whenever the erasure is repeated."""

    event_type = "erasure.reported"
    carries_personal_data: ClassVar[bool] = False

    erasure_id: uuid.UUID
    service: str = Field(max_length=64)
    counts: dict[str, int] = Field(description="Rows (or files) redacted per store, e.g. tickets.ticket_messages")


class PersonRecords(Contract):
    """Which records concern a person, as identity knows them: what a service is asked to export for a subject
    access request (``POST /api/v1/internal/subject-export`` on tickets). ``whole_card`` on a private person's
    card: everything of ``client_id`` is theirs."""

    client_id: uuid.UUID
    person_id: uuid.UUID | None = None
    whole_card: bool = False
    contact_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_ERASED_REFERENCES)
    ticket_numbers: list[TicketNumber] = Field(default_factory=list, max_length=MAX_ERASED_REFERENCES)


class SubjectExport(Contract):
    """What one service holds on a person, by store (table): rows as JSON objects, the data itself."""

    service: str
    records: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
