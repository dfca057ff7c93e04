"""Which confirmed organisation uses which mail domain: the colleague lookup of a new sender, in one index probe.

A new sender writing from a known organisation's own domain joins that card (:func:`.identify._colleague`).
Asked of ``identifiers`` directly, the question read every address at the domain and each one's card, and at a
busy domain those are mostly provisional cards of other new senders, never the answer: the statement grew with
every one of them (9.5 ms on PostgreSQL at 5,500 such cards, the costliest per contact in ``bench/e2e.py`` from
a few thousand contacts on). ``organisation_domains`` keeps the answer's rows only, one per (domain,
organisation), so the lookup reads at most two.

It is derived data: :func:`refresh` recomputes the rows of the cards it is given from ``identifiers`` and
``clients``, and every change that can alter them calls it in the same transaction: identifiers moved (a
merge, its undo, a claim proven), removed (an erasure, a rejected claim) or imported, and a card's kind or
confirmation edited. Addresses added to a card can only add rows: :func:`domains_added` probes for those
alone, so a colleague joining a large organisation does not recompute it from its thousands of addresses. A
card deleted takes its rows with it (the foreign key cascades); a provisional card has none, so the cards
identification makes for new senders need no refresh.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Select, String, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_kit.driver_statements import any_of

from .tables import clients, identifiers, organisation_domains

#: A card's columns that decide whether it counts: an edit of one of them refreshes its rows.
DECIDING_COLUMNS = frozenset({"kind", "provisional"})


async def refresh(session: AsyncSession, client_ids: Iterable[uuid.UUID | None]) -> None:
    """Recompute the rows of these cards (None and repeats are skipped), in the caller's transaction."""
    wanted = sorted({client_id for client_id in client_ids if client_id is not None})
    if not wanted:
        return
    session.info.pop(_READ, None)  # what read_together read may change now
    await session.execute(_FORGET, {"ids": wanted})
    await session.execute(_DERIVE, {"ids": wanted})


async def domains_added(session: AsyncSession, client_id: uuid.UUID, domains: Iterable[str]) -> None:
    """Addresses at ``domains`` were added to the card: its rows for them, when it is a confirmed organisation
    and has none yet, in the caller's transaction."""
    statement = _ADD[session.bind is not None and session.bind.dialect.name == "postgresql"]
    for domain in sorted(set(domains)):
        if (await session.execute(statement, {"domain": domain, "client_id": client_id})).rowcount:
            session.info.pop(_READ, None)  # a domain read_together read has an organisation now


async def organisation_of_domain(session: AsyncSession, domain: str) -> uuid.UUID | None:
    """The one confirmed organisation whose known addresses use ``domain``; None when none or several do.

    Two organisations on one domain (a holding and its subsidiary) is a question for a person, not a guess.
    """
    read: dict[str, list[uuid.UUID]] | None = session.info.get(_READ)
    rows = read[domain] if read is not None and domain in read else (
        await session.execute(_OF_DOMAIN, {"domain": domain})).scalars().all()
    return rows[0] if len(rows) == 1 else None


@asynccontextmanager
async def read_together(session: AsyncSession, domains: Iterable[str]) -> AsyncIterator[None]:
    """The organisations of ``domains`` read in one statement, which :func:`organisation_of_domain` answers from
    inside the block (a batch of new senders asks one domain each), until a :func:`refresh` in the block."""
    wanted = sorted(set(domains))
    read: dict[str, list[uuid.UUID]] = {domain: [] for domain in wanted}
    if wanted:
        statement = _OF_DOMAINS[session.bind is not None and session.bind.dialect.name == "postgresql"]
        for domain, client_id in await session.execute(statement, {"domains": wanted}):
            read[domain].append(client_id)
    session.info[_READ] = read
    try:
        yield
    finally:
        session.info.pop(_READ, None)


def derived_rows() -> Select[Any]:
    """(domain, client_id) of every confirmed organisation's addresses: the rows the table should hold (the
    migration that made it fills it with this, and the tests compare against it)."""
    return _rows_of(None)


def _rows_of(ids: Any) -> Select[Any]:
    query = (select(identifiers.c.domain, identifiers.c.client_id).distinct()
             .join(clients, clients.c.id == identifiers.c.client_id)
             .where(identifiers.c.domain.is_not(None), clients.c.kind == "org", clients.c.provisional.is_(False)))
    return query if ids is None else query.where(identifiers.c.client_id.in_(ids))


#: The session's key for what :func:`read_together` read: each domain's organisations.
_READ = "priyom.identity.organisation_domains.read"
# Built once: the lookup runs for every new sender at a corporate domain.
_OF_DOMAIN = select(organisation_domains.c.client_id).where(
    organisation_domains.c.domain == bindparam("domain")).limit(2)
_OF_DOMAINS = {postgresql: select(organisation_domains.c.domain, organisation_domains.c.client_id).where(
    any_of(organisation_domains.c.domain, "domains", "postgresql" if postgresql else "sqlite"))
    for postgresql in (True, False)}
_FORGET = delete(organisation_domains).where(
    organisation_domains.c.client_id.in_(bindparam("ids", expanding=True)))
_DERIVE = organisation_domains.insert().from_select(
    ["domain", "client_id"], _rows_of(bindparam("ids", expanding=True)))
_ADD = {postgresql: (pg_insert if postgresql else sqlite_insert)(organisation_domains).from_select(
    ["domain", "client_id"],
    select(bindparam("domain", type_=String()), clients.c.id).where(
        clients.c.id == bindparam("client_id"), clients.c.kind == "org", clients.c.provisional.is_(False)),
).on_conflict_do_nothing() for postgresql in (True, False)}
