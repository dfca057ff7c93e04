"""Identity's storage: the engine's lifecycle, migrations, and the queries the handler and the API use.

Every query takes the caller's :class:`AsyncSession`, so one contact is matched, written and recorded in
the inbox in a single transaction. Writes never "upsert" an identifier: a clash on ``UNIQUE(kind, value)``
raises, the caller rolls back and matches again, and the second reading sees the winner's card.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import utcnow
from priyom_kit import db

from .cards import ClientCard, IdentifierView, PersonView
from .matching import Identifier, Owner
from .tables import clients, contact_history, contact_persons, identifiers, metadata

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_identity"

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "metadata", "migrate_database"]


def migrate_database(url: str) -> None:
    """Upgrade ``url`` to the newest schema (``python -m priyom_identity migrate``, and tests)."""
    db.upgrade_database(MIGRATIONS_DIR, url, VERSION_TABLE)


# -- matching ---------------------------------------------------------------------------------------------


async def owners_of(session: AsyncSession, wanted: Iterable[Identifier]) -> dict[tuple[str, str], Owner]:
    """Who owns each of ``wanted`` (one query); identifiers nobody owns are absent from the result."""
    conditions = [and_(identifiers.c.kind == i.kind, identifiers.c.value == i.value) for i in wanted]
    if not conditions:
        return {}
    rows = await session.execute(
        select(identifiers.c.kind, identifiers.c.value, identifiers.c.client_id, identifiers.c.person_id)
        .where(or_(*conditions))
    )
    return {(r.kind, r.value): Owner(r.client_id, r.person_id) for r in rows}


@dataclass(frozen=True)
class ClientSummary:
    """What travels on the bus about a card: enough for routing, no contact details."""

    client_id: uuid.UUID
    name: str
    account_manager: str | None
    sla_tier: str


async def client_summary(session: AsyncSession, client_id: uuid.UUID) -> ClientSummary:
    row = (await session.execute(
        select(clients.c.id, clients.c.name, clients.c.account_manager, clients.c.sla_tier)
        .where(clients.c.id == client_id)
    )).one()
    return ClientSummary(row.id, row.name, row.account_manager, row.sla_tier)


async def create_client(session: AsyncSession, *, kind: str, name: str, provisional: bool,
                        sla_tier: str = "standard", account_manager: str | None = None,
                        first_contact_at: datetime | None = None) -> uuid.UUID:
    now = utcnow()
    client_id = uuid.uuid4()
    await session.execute(clients.insert().values(
        id=client_id, kind=kind, name=name, sla_tier=sla_tier, account_manager=account_manager,
        provisional=provisional, first_contact_at=first_contact_at, last_contact_at=first_contact_at,
        created_at=now, updated_at=now,
    ))
    return client_id


async def create_person(session: AsyncSession, client_id: uuid.UUID, full_name: str | None,
                        position: str | None = None) -> uuid.UUID:
    person_id = uuid.uuid4()
    await session.execute(contact_persons.insert().values(
        id=person_id, client_id=client_id, full_name=full_name, position=position, created_at=utcnow(),
    ))
    return person_id


async def add_identifiers(session: AsyncSession, owner: Owner, new: Sequence[Identifier]) -> None:
    """Attach ``new`` to the card (and person). Raises ``IntegrityError`` if another card got one first."""
    if not new:
        return
    now = utcnow()
    await session.execute(identifiers.insert(), [
        {"id": uuid.uuid4(), "client_id": owner.client_id, "person_id": owner.person_id, "kind": i.kind,
         "value": i.value, "raw": i.raw[:512], "extension": i.extension, "created_at": now}
        for i in new
    ])


async def record_contact(session: AsyncSession, owner: Owner, *, channel: str, contact_id: uuid.UUID,
                         occurred_at: datetime) -> None:
    """Append to the history and move ``last_contact_at`` forward (never back: deliveries can reorder)."""
    await session.execute(contact_history.insert().values(
        client_id=owner.client_id, person_id=owner.person_id, channel=channel, contact_id=contact_id,
        occurred_at=occurred_at,
    ))
    await session.execute(
        update(clients)
        .where(clients.c.id == owner.client_id,
               or_(clients.c.last_contact_at.is_(None), clients.c.last_contact_at < occurred_at))
        .values(last_contact_at=occurred_at, updated_at=utcnow())
    )


# -- cards ------------------------------------------------------------------------------------------------


async def load_card(session: AsyncSession, client_id: uuid.UUID) -> ClientCard | None:
    """The whole card with persons and identifiers, or None."""
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
    return ClientCard(
        **row._asdict(),
        persons=[PersonView(id=p.id, full_name=p.full_name, position=p.position) for p in persons],
        identifiers=[IdentifierView(id=i.id, kind=i.kind, value=i.value, extension=i.extension,
                                    person_id=i.person_id) for i in idents],
    )
