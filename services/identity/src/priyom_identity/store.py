"""Identity's storage: the engine's lifecycle, migrations, and the queries the handler and the API use.

Every query takes the caller's :class:`AsyncSession`, so one contact is matched, written and recorded in
the inbox in a single transaction. Writes never "upsert" an identifier: a clash on ``UNIQUE(kind, value)``
raises, the caller rolls back and matches again, and the second reading sees the winner's card.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ClientCard, IdentifierView, PersonView, ServiceContract, utcnow
from priyom_kit import db

from . import card_rows, organisation_domains
from .cards import CardSummary, HistoryEntry
from .completeness import missing_fields
from .lookup.cache import LookupHit
from .matching import PHONE, Identifier, Owner
from .owners import owners_written
from .tables import (
    card_audit,
    card_merges,
    client_contracts,
    clients,
    contact_history,
    contact_persons,
    identifiers,
    metadata,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_identity"

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "metadata", "migrate_database"]


def migrate_database(url: db.DatabaseUrl) -> None:
    """Upgrade ``url`` to the newest schema (``python -m priyom_identity migrate``, and tests)."""
    db.upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)


@dataclass(frozen=True)
class ClientSummary:
    """What travels on the bus about a card: enough for routing, no contact details."""

    client_id: uuid.UUID
    name: str
    account_manager: str | None
    sla_tier: str
    kind: str = "person"
    tags: tuple[str, ...] = ()
    contracts: tuple[ServiceContract, ...] = ()
    #: The channel the card prefers to be answered on (for :func:`~priyom_identity.reach.reach_of`).
    reply_channel: str | None = None

    @property
    def organisation(self) -> str | None:
        return self.name if self.kind == "org" else None


async def client_summary(session: AsyncSession, client_id: uuid.UUID) -> ClientSummary:
    """The card's summary (a card made just now has one without reading it: :mod:`.new_cards`)."""
    row = (await session.execute(_CLIENT_SUMMARY, {"client": client_id})).one()
    contracts = tuple(await contracts_of(session, client_id))
    return ClientSummary(row.id, row.name, row.account_manager, row.sla_tier, row.kind, tuple(row.tags or ()),
                         contracts, row.reply_channel)


async def contracts_of(session: AsyncSession, client_id: uuid.UUID) -> list[ServiceContract]:
    rows = await session.execute(_CONTRACTS_OF, {"client": client_id})
    return [ServiceContract(number=r.number, service=r.service, valid_from=r.valid_from, valid_to=r.valid_to)
            for r in rows]


_CLIENT_SUMMARY = (
    select(clients.c.id, clients.c.name, clients.c.account_manager, clients.c.sla_tier, clients.c.kind,
           clients.c.tags, clients.c.reply_channel)
    .where(clients.c.id == bindparam("client"))
)
_CONTRACTS_OF = (
    select(client_contracts).where(client_contracts.c.client_id == bindparam("client"))
    .order_by(client_contracts.c.valid_from, client_contracts.c.number)
)


async def add_contracts(session: AsyncSession, client_id: uuid.UUID,
                        contracts: Sequence[ServiceContract]) -> None:
    if contracts:
        await session.execute(client_contracts.insert(), [
            {"id": uuid.uuid4(), "client_id": client_id, **c.model_dump()} for c in contracts])


async def create_client(session: AsyncSession, *, kind: str, name: str, provisional: bool,
                        **details: Any) -> uuid.UUID:
    """A new card; ``details`` as :func:`~priyom_identity.card_rows.client_row` takes them."""
    row = card_rows.client_row(kind=kind, name=name, provisional=provisional, **details)
    await session.execute(_CREATE_CLIENT, row)
    return row["id"]  # type: ignore[no-any-return]


async def create_person(session: AsyncSession, client_id: uuid.UUID, full_name: str | None,
                        position: str | None = None, role: str | None = None) -> uuid.UUID:
    person_id = uuid.uuid4()
    await session.execute(_CREATE_PERSON, card_rows.person_row(person_id, client_id, full_name, position, role))
    return person_id


_CREATE_CLIENT = clients.insert()
_CREATE_PERSON = contact_persons.insert()


async def add_identifiers(session: AsyncSession, owner: Owner, new: Sequence[Identifier],
                          verified_by: str | None = None) -> None:
    """Attach ``new`` to the card (and person), each verified or a claim as it says; ``verified_by`` names
    the proof of the verified ones. Raises ``IntegrityError`` if another card got one first."""
    if new:
        owners_written(session, (i.key for i in new))
        await session.execute(identifiers.insert(), card_rows.identifier_rows(owner, new, verified_by))
        await organisation_domains.domains_added(session, owner.client_id, (i.domain for i in new if i.domain))


async def record_contact(session: AsyncSession, owner: Owner, *, channel: str, contact_id: uuid.UUID,
                         occurred_at: datetime) -> None:
    """Append to the history and move ``last_contact_at`` forward (never back: deliveries can reorder). A card
    made for the contact has it from the start (:mod:`.new_cards`)."""
    await session.execute(_RECORD_CONTACT, card_rows.history_row(owner, channel=channel, contact_id=contact_id,
                                                                 occurred_at=occurred_at))
    await session.execute(_LAST_CONTACT, {"client": owner.client_id, "at": occurred_at, "now": utcnow()})


_RECORD_CONTACT = contact_history.insert()
_LAST_CONTACT = (
    update(clients)
    .where(clients.c.id == bindparam("client"),
           or_(clients.c.last_contact_at.is_(None), clients.c.last_contact_at < bindparam("at")))
    .values(last_contact_at=bindparam("at"), updated_at=bindparam("now"))
)


# -- cards ------------------------------------------------------------------------------------------------


async def load_card(session: AsyncSession, client_id: uuid.UUID) -> ClientCard | None:
    """The whole card with persons, identifiers, contracts and what is still missing, or None."""
    row = (await session.execute(select(clients).where(clients.c.id == client_id))).one_or_none()
    if row is None:
        return None
    persons = await session.execute(
        select(contact_persons).where(contact_persons.c.client_id == client_id)
        .order_by(contact_persons.c.created_at, contact_persons.c.id)
    )
    idents = await session.execute(
        select(identifiers).where(identifiers.c.client_id == client_id)
        .order_by(identifiers.c.created_at, identifiers.c.kind, identifiers.c.value)
    )
    fields = row._asdict()
    fields.pop("search_name")
    fields["tags"] = list(fields["tags"] or [])
    card = ClientCard(
        **fields,
        contracts=await contracts_of(session, client_id),
        persons=[PersonView(id=p.id, full_name=p.full_name, position=p.position, role=p.role,
                            erased=p.erased_at is not None) for p in persons],
        identifiers=[IdentifierView(id=i.id, kind=i.kind, value=i.value, extension=i.extension,
                                    person_id=i.person_id, undeliverable_at=i.undeliverable_at,
                                    undeliverable_reason=i.undeliverable_reason, verified=i.verified,
                                    verified_by=i.verified_by) for i in idents],
    )
    return card.model_copy(update={"missing_fields": missing_fields(card)})


async def update_client(session: AsyncSession, client_id: uuid.UUID, changes: dict[str, Any]) -> bool:
    """Apply column changes to a card; False when there is no such card."""
    values = dict(changes, updated_at=utcnow())
    if "name" in values:
        values["search_name"] = values["name"].casefold()
    result = await session.execute(update(clients).where(clients.c.id == client_id).values(**values))
    if result.rowcount and organisation_domains.DECIDING_COLUMNS & values.keys():
        await organisation_domains.refresh(session, [client_id])
    return bool(result.rowcount)


async def replace_contracts(session: AsyncSession, client_id: uuid.UUID,
                            contracts: Sequence[ServiceContract]) -> None:
    await session.execute(delete(client_contracts).where(client_contracts.c.client_id == client_id))
    await add_contracts(session, client_id, contracts)


async def history(session: AsyncSession, client_id: uuid.UUID, limit: int) -> list[HistoryEntry]:
    """The card's contacts, newest first."""
    rows = await session.execute(
        select(contact_history).where(contact_history.c.client_id == client_id)
        .order_by(contact_history.c.occurred_at.desc(), contact_history.c.id.desc()).limit(limit)
    )
    return [HistoryEntry(channel=r.channel, occurred_at=r.occurred_at, contact_id=r.contact_id,
                         person_id=r.person_id, ticket_number=r.ticket_number) for r in rows]


#: How close (pg_trgm word similarity, 0 to 1) a name must be to the searched words to be a hit.
NAME_CLOSENESS = 0.5


async def search(session: AsyncSession, *, name: str | None, phone_digits: str | None,
                 limit: int, trigram: bool = False) -> list[CardSummary]:
    """Cards whose name contains ``name`` (any case) or with a phone containing ``phone_digits``.

    With ``trigram`` (PostgreSQL with pg_trgm, see :func:`trigram_available`) a name also matches when it
    is close to ``name`` word by word (``Ромашко`` finds ``ООО Ромашка``), best first, from the GIN index
    of migration 0004. Without it, a substring search, which scans: it serves an agent's search box, never
    the per-contact path.
    """
    columns = [clients.c.id, clients.c.kind, clients.c.name, clients.c.provisional, clients.c.account_manager,
               clients.c.last_contact_at]
    order = [clients.c.name, clients.c.id]
    condition = None
    if name:
        folded = name.casefold()
        condition = clients.c.search_name.contains(folded, autoescape=True)
        if trigram:
            # pg_trgm's default (0.6) misses one dropped letter in an eight-letter word; 0.5 does not,
            # and still keeps unrelated names out. Local to this session's transaction.
            await session.execute(select(func.set_config("pg_trgm.word_similarity_threshold",
                                                         str(NAME_CLOSENESS), True)))
            closeness = func.word_similarity(folded, clients.c.search_name)
            condition = condition | literal(folded).op("<%")(clients.c.search_name)
            columns.append(closeness.label("closeness"))
            order.insert(0, closeness.desc())
    query = select(*columns).distinct()
    if condition is not None:
        query = query.where(condition)
    if phone_digits:
        query = query.join(identifiers, identifiers.c.client_id == clients.c.id).where(
            identifiers.c.kind == PHONE, identifiers.c.value.contains(phone_digits, autoescape=True))
    rows = await session.execute(query.order_by(*order).limit(limit))
    return [CardSummary(**{k: v for k, v in r._asdict().items() if k != "closeness"}) for r in rows]


async def trigram_available(session: AsyncSession) -> bool:
    """Whether the database can answer :func:`search` by trigram similarity (pg_trgm installed)."""
    if session.bind.dialect.name != "postgresql":
        return False
    return (await session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))).first() is not None


async def person_client(session: AsyncSession, person_id: uuid.UUID) -> uuid.UUID | None:
    return (await session.execute(
        select(contact_persons.c.client_id).where(contact_persons.c.id == person_id))).scalar_one_or_none()


async def record_audit(session: AsyncSession, action: str, client_id: uuid.UUID, *, actor: str,
                       other_id: uuid.UUID | None = None, detail: dict[str, Any] | None = None) -> None:
    """One audit row: ids, counts and reasons only, never personal data (it outlives an erasure)."""
    await session.execute(card_audit.insert().values(
        action=action, client_id=client_id, other_id=other_id, actor=actor[:200], at=utcnow(),
        detail=detail or {},
    ))


async def merged_into(session: AsyncSession, client_id: uuid.UUID) -> uuid.UUID | None:
    """The card a merged-away card now lives in (following later merges), or None."""
    seen: set[uuid.UUID] = set()
    current = client_id
    while current not in seen:
        seen.add(current)
        target = (await session.execute(
            select(card_audit.c.client_id).where(card_audit.c.action == "merge", card_audit.c.other_id == current)
            .order_by(card_audit.c.id.desc()).limit(1))).scalar_one_or_none()
        if target is None:
            return None if current == client_id else current
        current = target
    return current


async def flag_possible_duplicate(session: AsyncSession, client_id: uuid.UUID, other_id: uuid.UUID, *,
                                  actor: str) -> None:
    """Remember that one contact's identifiers pointed at both cards (once per pair), for review."""
    exists = (await session.execute(
        select(card_audit.c.id).where(card_audit.c.action == "possible-duplicate",
                                      card_audit.c.client_id == client_id, card_audit.c.other_id == other_id)
        .limit(1))).first()
    if exists is None:
        await record_audit(session, "possible-duplicate", client_id, other_id=other_id, actor=actor,
                           detail={"reason": "one contact carried identifiers of both cards"})


_LOOKUP_COLUMNS = (identifiers.c.kind, identifiers.c.value, identifiers.c.client_id, identifiers.c.person_id,
                   clients.c.name, clients.c.kind.label("client_kind"), clients.c.account_manager,
                   clients.c.sla_tier)
#: The usual telephony question (one number), built once: building a statement costs more than running it.
_LOOKUP_ONE = (select(*_LOOKUP_COLUMNS).join(clients, clients.c.id == identifiers.c.client_id)
               .where(identifiers.c.kind == bindparam("kind"), identifiers.c.value == bindparam("value"),
                      identifiers.c.verified.is_(True)))


async def lookup_hits(session: AsyncSession, wanted: Sequence[Identifier]) -> dict[tuple[str, str], LookupHit]:
    """The card behind each verified identifier of ``wanted``, in one indexed query (the telephony fast path).

    A claim is left out: an unverified phone must never fill a caller's pop-up (see claims.py)."""
    if not wanted:
        return {}
    if len(wanted) == 1:
        rows = await session.execute(_LOOKUP_ONE, {"kind": wanted[0].kind, "value": wanted[0].value})
    else:
        rows = await session.execute(
            select(*_LOOKUP_COLUMNS).join(clients, clients.c.id == identifiers.c.client_id)
            .where(or_(*(and_(identifiers.c.kind == i.kind, identifiers.c.value == i.value) for i in wanted)),
                   identifiers.c.verified.is_(True)))
    return {(r.kind, r.value): LookupHit(r.client_id, r.person_id, r.name, r.account_manager, r.sla_tier,
                                         r.name if r.client_kind == "org" else None) for r in rows}


async def delete_client(session: AsyncSession, client_id: uuid.UUID, *, actor: str) -> bool:
    """Delete a card and everything on it; the audit keeps who did it and how much went. False: no such card."""
    counts = {}
    for name, table in (("persons", contact_persons), ("identifiers", identifiers), ("history", contact_history)):
        counts[name] = (await session.execute(
            select(func.count()).select_from(table).where(table.c.client_id == client_id))).scalar_one()
    result = await session.execute(delete(clients).where(clients.c.id == client_id))
    if not result.rowcount:
        return False
    # The snapshots to undo merges of this card hold the merged cards' data: they go with it.
    await session.execute(delete(card_merges).where(
        or_(card_merges.c.target_id == client_id, card_merges.c.source_id == client_id)))
    await record_audit(session, "delete", client_id, actor=actor, detail={"removed": counts})
    return True
