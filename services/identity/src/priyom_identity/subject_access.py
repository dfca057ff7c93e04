"""Subject access (152-FZ art. 14, GDPR art. 15): one JSON export of everything the system holds on a person.

Identity knows who the person is and which contacts and tickets are theirs, so it gathers: its own rows (the
card, the person, identifiers, contact history, contracts, audit, erasure requests) and what each service
that keeps personal data answers for :class:`~priyom_contracts.PersonRecords` (tickets: the tickets with
messages, attachments, activities, ratings and history; the router: agents' type corrections with the
tickets' texts). A service that cannot be reached is named in the export as unavailable rather than silently
left out. The intakes keep no readable personal data past the hand-over (digests of keys, ids of replies
delivered), so they have nothing to export.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import PersonRecords, SubjectExport, UtcDateTime, utcnow
from priyom_kit import HttpClient, get_logger

from .erasure import NothingToErase, contacts_of
from .tables import (
    card_audit,
    client_contracts,
    clients,
    contact_history,
    contact_persons,
    erasure_requests,
    identifiers,
)

log = get_logger("priyom.identity.subject-access")


class PersonExport(BaseModel):
    person_id: uuid.UUID
    generated_at: UtcDateTime
    services: dict[str, SubjectExport]
    unavailable: dict[str, str] = {}


async def _rows(session: AsyncSession, query: Any) -> list[dict[str, Any]]:
    return [jsonable_encoder(dict(row)) for row in (await session.execute(query)).mappings()]


async def identity_records(session: AsyncSession, person_id: uuid.UUID) -> tuple[SubjectExport, PersonRecords]:
    """Identity's own rows on the person, and which records of the other services are theirs."""
    person = (await session.execute(select(contact_persons).where(contact_persons.c.id == person_id))).mappings().first()
    if person is None:
        raise NothingToErase("no such person")
    client_id = person["client_id"]
    kind = (await session.execute(select(clients.c.kind).where(clients.c.id == client_id))).scalar_one()
    whole_card = kind == "person"
    owned = identifiers.c.person_id == person_id
    if whole_card:
        owned = or_(owned, (identifiers.c.client_id == client_id) & identifiers.c.person_id.is_(None))
    contact_ids, numbers = await contacts_of(session, client_id if whole_card else None, person_id)
    history = contact_history.c.person_id == person_id
    if whole_card:
        history = or_(history, contact_history.c.client_id == client_id)
    records = {
        "clients": await _rows(session, select(clients).where(clients.c.id == client_id)),
        "contact_persons": [jsonable_encoder(dict(person))],
        "identifiers": await _rows(session, select(identifiers).where(owned)),
        "contact_history": await _rows(session, select(contact_history).where(history)),
        "client_contracts": await _rows(session, select(client_contracts).where(
            client_contracts.c.client_id == client_id)) if whole_card else [],
        "card_audit": await _rows(session, select(card_audit).where(card_audit.c.client_id == client_id)),
        "erasure_requests": await _rows(session, select(erasure_requests).where(
            erasure_requests.c.person_id == person_id)),
    }
    scope = PersonRecords(client_id=client_id, person_id=person_id, whole_card=whole_card, contact_ids=contact_ids,
                          ticket_numbers=numbers)
    return SubjectExport(service="identity", records=records), scope


async def export_person(session: AsyncSession, person_id: uuid.UUID,
                        services: Mapping[str, HttpClient | None]) -> PersonExport:
    """Identity's rows and each service's answer (``services``: name → its client, None when not configured)."""
    own, scope = await identity_records(session, person_id)
    export = PersonExport(person_id=person_id, generated_at=utcnow(), services={"identity": own})
    for name, client in services.items():
        if client is None:
            export.unavailable[name] = f"IDENTITY_{name.upper()}_URL is not set"
            continue
        try:
            answer = await client.post("/api/v1/internal/subject-export", json=scope.model_dump(mode="json"))
            answer.raise_for_status()
            export.services[name] = SubjectExport.model_validate(answer.json())
        except Exception as exc:  # noqa: BLE001 - the export says which part is missing, and why
            log.warning("a service's part of a subject export failed", service=name, error=type(exc).__name__)
            export.unavailable[name] = type(exc).__name__
    return export
