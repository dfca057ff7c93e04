"""Loading rows read by :mod:`.csv_rows` into cards: one card per company, one person per row.

A company already on file (same name, any case) gets the new persons instead of a second card. Each row
runs in its own savepoint, so a row whose phone another card already has (or that a concurrent contact
takes meanwhile) is reported and the rest still load.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from . import store
from .csv_rows import ImportRow, RowError
from .matching import Owner
from .tables import clients


@dataclass
class ImportReport:
    cards_created: int = 0
    persons_added: int = 0
    errors: list[RowError] = field(default_factory=list)
    changed: set[uuid.UUID] = field(default_factory=set)


async def import_rows(session: AsyncSession, rows: list[ImportRow], report: ImportReport) -> ImportReport:
    """Write ``rows`` inside the caller's transaction, adding to ``report``."""
    companies: dict[str, uuid.UUID] = {}
    taken = await store.owners_of(session, [i for row in rows for i in row.identifiers])
    for row in rows:
        if any(i.key in taken for i in row.identifiers):
            report.errors.append(RowError(row.line, "a phone or email of this row belongs to another card"))
            continue
        client_id = await _card_for(session, row, companies, report)
        try:
            async with session.begin_nested():
                person_id = await store.create_person(session, client_id, row.name)
                await store.add_identifiers(session, Owner(client_id, person_id), list(row.identifiers))
        except IntegrityError:
            report.errors.append(RowError(row.line, "a phone or email of this row was just taken"))
            continue
        report.persons_added += 1
        report.changed.add(client_id)
    return report


async def _card_for(session: AsyncSession, row: ImportRow, companies: dict[str, uuid.UUID],
                    report: ImportReport) -> uuid.UUID:
    if row.company is None:  # a private client: the card is the person
        report.cards_created += 1
        return await store.create_client(session, kind="person", name=row.name or "", provisional=False,
                                         account_manager=row.manager)
    key = row.company.casefold()
    if key not in companies:
        existing = (await session.execute(
            select(clients.c.id).where(clients.c.search_name == key, clients.c.kind == "org").limit(1)
        )).scalar_one_or_none()
        if existing is None:
            existing = await store.create_client(session, kind="org", name=row.company, provisional=False,
                                                 account_manager=row.manager)
            report.cards_created += 1
        companies[key] = existing
    return companies[key]
