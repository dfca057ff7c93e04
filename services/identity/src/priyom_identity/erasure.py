"""Erasing a person's personal data on request (152-FZ art. 21, GDPR art. 17) while keeping statistics.

What goes: the person's phones, emails and messenger ids, their name and position; on a private person's
card also the card's name, notes, legal id and its own identifiers, because there the card *is* the person.
What stays: the person row (marked erased), the contact history (channel, time, ticket number: no personal
data) and the tickets elsewhere, so counts and SLA statistics still add up. An audit row records who
erased what, by id and count only. A later contact from the same number is, correctly, a stranger.
The erasure then reaches every other store: ``person.erased`` (``client.erased`` for a private person's card)
is staged in ``erasure_requests`` in the same transaction and published once committed
(:mod:`.erasure_outbox`); each service redacts its own records and reports counts (:mod:`.erasure_reports`).
Identity's inbox keeps each identification whole (text, addresses), so those rows go here too.
The snapshots kept to undo merges of the card go too (they hold names and notes): such a merge can no
longer be undone.
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import MAX_ERASED_REFERENCES, ClientErased, PersonErased, identifier_digest, utcnow

from . import erasure_outbox, organisation_domains, store
from .erasure_outbox import ErasureRequest
from .merging import forget_merges_of
from .owners import forget_owners_read
from .tables import clients, contact_history, contact_persons, identifiers, inbox

#: Contacts matched per statement when the inbox is searched for them.
INBOX_BATCH = 100

#: What an erased private person's card is called from then on.
ERASED_NAME = "Удалено по запросу"


class NothingToErase(LookupError):
    """No such person."""


async def erase_person(session: AsyncSession, person_id: uuid.UUID, *, actor: str) -> ErasureRequest:
    """Remove the person's personal data here and stage the message that tells every other store to do the
    same; runs in the caller's transaction. A repeat returns the first request unchanged (its message is
    published again, and every service redacts idempotently)."""
    earlier = await erasure_outbox.request_of(session, person_id)
    if earlier is not None:
        return earlier
    client_id = await store.person_client(session, person_id)
    if client_id is None:
        raise NothingToErase("no such person")
    kind = (await session.execute(select(clients.c.kind).where(clients.c.id == client_id))).scalar_one()
    whole_card = kind == "person"
    owned = identifiers.c.person_id == person_id
    if whole_card:
        owned = owned | ((identifiers.c.client_id == client_id) & identifiers.c.person_id.is_(None))
    known_by = (await session.execute(select(identifiers.c.value, identifiers.c.raw).where(owned))).all()
    contact_ids, ticket_numbers = await contacts_of(session, client_id if whole_card else None, person_id)
    forget_owners_read(session)
    removed = (await session.execute(delete(identifiers).where(owned))).rowcount or 0
    await organisation_domains.refresh(session, [client_id])
    await session.execute(update(contact_persons).where(contact_persons.c.id == person_id)
                          .values(full_name=None, position=None, erased_at=utcnow()))
    if whole_card:
        await store.update_client(session, client_id, {"name": ERASED_NAME, "notes": None, "legal_id": None})
    snapshots = await forget_merges_of(session, client_id, person_id)
    contact_keys = await forget_inbox_outcomes(session, contact_ids)
    inbox_rows = len(contact_keys)
    counts = {"identity.identifiers": removed, "identity.contact_persons": 1,
              "identity.clients": 1 if whole_card else 0, "identity.card_merges": snapshots,
              "identity.identity_inbox": inbox_rows}
    digests = sorted({identifier_digest(v) for row in known_by for v in row if v})
    erasure_id = uuid.uuid4()
    message = (ClientErased if whole_card else PersonErased)(
        correlation_id=erasure_id, channel="api", idempotency_key=f"erasure:{erasure_id}", erasure_id=erasure_id,
        client_id=client_id, person_id=person_id, contact_ids=contact_ids[:MAX_ERASED_REFERENCES],
        ticket_numbers=ticket_numbers[:MAX_ERASED_REFERENCES], identifier_digests=digests[:1000],
        contact_key_digests=sorted({hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
                                    for key in contact_keys})[:MAX_ERASED_REFERENCES])
    request = await erasure_outbox.stage(session, message, actor=actor, counts=counts)
    await store.record_audit(session, "erase", client_id, actor=actor,
                             detail={"person_id": str(person_id), "erasure_id": str(erasure_id), **counts,
                                     "identifiers_removed": removed, "merge_snapshots_removed": snapshots})
    return request


async def contacts_of(session: AsyncSession, client_id: uuid.UUID | None,
                       person_id: uuid.UUID) -> tuple[list[uuid.UUID], list[str]]:
    """The contacts (and their tickets) that concern the person: all of a private person's card, or those
    matched to the person on an organisation's card."""
    scope = contact_history.c.person_id == person_id
    if client_id is not None:
        scope = scope | (contact_history.c.client_id == client_id)
    rows = (await session.execute(select(contact_history.c.contact_id, contact_history.c.ticket_number)
                                   .where(scope).order_by(contact_history.c.occurred_at))).all()
    contact_ids = list(dict.fromkeys(row.contact_id for row in rows))
    numbers = list(dict.fromkeys(row.ticket_number for row in rows if row.ticket_number))
    return contact_ids, numbers


async def forget_inbox_outcomes(session: AsyncSession, contact_ids: list[uuid.UUID]) -> list[str]:
    """Delete the recorded identifications of these contacts (each holds the whole contact, text and
    addresses). A redelivery of such a contact after this is identified anew, which no longer finds the
    person: the erasure stands. Returns the contacts' idempotency keys (the inbox's keys), by which the
    intakes know their records."""
    keys: list[str] = []
    text = cast(inbox.c.outcome, Text)
    for start in range(0, len(contact_ids), INBOX_BATCH):
        chunk = contact_ids[start:start + INBOX_BATCH]
        matches = or_(*(text.like(f'%"{contact_id}"%') for contact_id in chunk))
        keys += (await session.execute(delete(inbox).where(matches).returning(inbox.c.key))).scalars().all()
    return keys
