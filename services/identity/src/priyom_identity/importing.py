"""Loading rows read by :mod:`.csv_rows` into cards: one card per company, one person per row.

A company already on file (same name, any case) gets the new persons instead of a second card. Rows whose
phone or email another card already has are reported and skipped. The rest are written a chunk at a time
(three multi-row inserts per chunk, in a savepoint); should a concurrent contact claim an identifier of the
chunk meanwhile, that chunk is rolled back and written again row by row, so only the row that lost the race
is reported and every other row still loads.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import utcnow

from . import organisation_domains
from .csv_rows import ImportRow, RowError
from .matching import Owner
from .owners import owners_of, owners_written
from .tables import clients, contact_persons, identifiers


@dataclass
class ImportReport:
    cards_created: int = 0
    persons_added: int = 0
    errors: list[RowError] = field(default_factory=list)
    changed: set[uuid.UUID] = field(default_factory=set)


#: Identifiers or names asked about in one query, and rows written in one chunk.
BATCH = 500


async def import_rows(session: AsyncSession, rows: list[ImportRow], report: ImportReport) -> ImportReport:
    """Write ``rows`` inside the caller's transaction, adding to ``report``."""
    wanted = [i for row in rows for i in row.identifiers]
    taken: dict[tuple[str, str], Owner] = {}
    for start in range(0, len(wanted), BATCH):
        taken.update(await owners_of(session, wanted[start:start + BATCH]))
    companies = await _companies_on_file(session, {row.company.casefold() for row in rows if row.company})
    free = []
    for row in rows:
        if any(i.key in taken for i in row.identifiers):
            report.errors.append(RowError(row.line, "a phone or email of this row belongs to another card"))
        else:
            free.append(row)
    for start in range(0, len(free), BATCH):
        chunk = free[start:start + BATCH]
        try:
            async with session.begin_nested():
                await _write(session, chunk, dict(companies), report, commit_to=companies)
        except IntegrityError:
            for row in chunk:  # someone took an identifier meanwhile: find which row, keep the others
                try:
                    async with session.begin_nested():
                        await _write(session, [row], dict(companies), report, commit_to=companies)
                except IntegrityError:
                    report.errors.append(RowError(row.line, "a phone or email of this row was just taken"))
    return report


async def _write(session: AsyncSession, rows: Sequence[ImportRow], companies: dict[str, uuid.UUID],
                 report: ImportReport, *, commit_to: dict[str, uuid.UUID]) -> None:
    """Insert ``rows`` with three statements; counts go to ``report`` only once the inserts succeeded."""
    now = utcnow()
    new_cards, persons, idents = [], [], []
    for row in rows:
        key = row.company.casefold() if row.company else None
        if key is None or key not in companies:
            client_id = uuid.uuid4()
            name = row.company or row.name or ""
            new_cards.append({"id": client_id, "kind": "org" if row.company else "person", "name": name,
                              "search_name": name.casefold(), "sla_tier": "standard",
                              "account_manager": row.manager, "provisional": False, "tags": [],
                              "created_at": now, "updated_at": now})
            if key is not None:
                companies[key] = client_id
        client_id = companies[key] if key is not None else new_cards[-1]["id"]
        person_id = uuid.uuid4()
        persons.append({"id": person_id, "client_id": client_id, "full_name": row.name, "created_at": now})
        idents += [{"id": uuid.uuid4(), "client_id": client_id, "person_id": person_id, "kind": i.kind,
                    "value": i.value, "raw": i.raw[:512], "extension": i.extension, "domain": i.domain,
                    "created_at": now} for i in row.identifiers]
    owners_written(session, ((i["kind"], i["value"]) for i in idents))
    for table, values in ((clients, new_cards), (contact_persons, persons), (identifiers, idents)):
        if values:
            await session.execute(table.insert(), values)
    await organisation_domains.refresh(session, {i["client_id"] for i in idents if i["domain"]})
    commit_to.update(companies)
    report.cards_created += len(new_cards)
    report.persons_added += len(persons)
    report.changed.update(p["client_id"] for p in persons)


async def _companies_on_file(session: AsyncSession, names: set[str]) -> dict[str, uuid.UUID]:
    """Organisation cards by lower-case name (the first one, when a name is on file twice)."""
    found: dict[str, uuid.UUID] = {}
    ordered = sorted(names)
    for start in range(0, len(ordered), BATCH):
        rows = await session.execute(
            select(clients.c.search_name, clients.c.id)
            .where(clients.c.search_name.in_(ordered[start:start + BATCH]), clients.c.kind == "org")
            .order_by(clients.c.created_at, clients.c.id))
        for name, client_id in rows:
            found.setdefault(name, client_id)
    return found
