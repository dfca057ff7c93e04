"""A provisional card for a sender never seen: the card, its one contact person, the sender's identifiers and
this contact on its history, written together.

Those are four inserts that need nothing back from one another (the ids are made here), and every statement
costs identity a round trip to the database and the wake-up on its other end; four of them were half the
statements of a new sender's identification. On PostgreSQL they go as one statement (the first three as
data-modifying CTEs of the fourth: PostgreSQL runs each of them exactly once, and checks the foreign keys at
the end of the statement, when all four rows are there); SQLite, which has no data-modifying CTEs, gets the
four statements. The rows are the same either way, and the same as :mod:`.store` writes (:mod:`.card_rows`).

What the card reads like afterwards is known without reading it back (:class:`NewCard`): two more statements
identification made for every new sender.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import Reach
from priyom_kit.driver_statements import fetch_mappings

from .card_rows import DEFAULT_SLA_TIER, client_row, history_row, identifier_rows, person_row
from .matching import Identifier, Owner
from .owners import owners_written
from .reach import reach_from
from .store import ClientSummary
from .tables import clients, contact_history, contact_persons, identifiers


@dataclass(frozen=True)
class NewCard:
    """A card just made: who it is, its summary and where it is reached, as reading them back would say."""

    owner: Owner
    summary: ClientSummary
    reach: Reach


async def create_provisional_card(session: AsyncSession, *, kind: str, name: str, person_name: str | None,
                                  new: Sequence[Identifier], verified_by: str, channel: str,
                                  contact_id: uuid.UUID, occurred_at: datetime) -> NewCard:
    """The card (``provisional``, first and last contact ``occurred_at``), its person, ``new`` attached to
    both (verified or claims, as each says; ``verified_by`` names the proof) and the contact on its history.
    Raises ``IntegrityError`` when another card got one of the identifiers first, as the steps alone do."""
    owners_written(session, (i.key for i in new))
    made = await _write(session, kind=kind, name=name, person_name=person_name, new=new, verified_by=verified_by,
                        channel=channel, contact_id=contact_id, occurred_at=occurred_at)
    summary = ClientSummary(made.client_id, name, account_manager=None, sla_tier=DEFAULT_SLA_TIER, kind=kind)
    # The order reach_of reads them in: verified first; all are the person's and made at the same moment.
    reachable = [(i.kind, i.value) for i in sorted(new, key=lambda i: not i.verified)]
    return NewCard(made, summary, reach_from(reachable, prefers=summary.reply_channel))


async def _write(session: AsyncSession, *, kind: str, name: str, person_name: str | None,
                 new: Sequence[Identifier], verified_by: str, channel: str, contact_id: uuid.UUID,
                 occurred_at: datetime) -> Owner:
    client = client_row(kind=kind, name=name, provisional=True, first_contact_at=occurred_at)
    person_id = uuid.uuid4()
    owner = Owner(client["id"], person_id)
    person = person_row(person_id, owner.client_id, person_name)
    attached = identifier_rows(owner, new, verified_by)
    history = history_row(owner, channel=channel, contact_id=contact_id, occurred_at=occurred_at)
    if session.bind is None or session.bind.dialect.name != "postgresql":
        for table, rows in ((clients, [client]), (contact_persons, [person]), (identifiers, attached),
                            (contact_history, [history])):
            if rows:
                await session.execute(table.insert(), rows)
        return owner
    by_prefix = {"c": [client], "p": [person], "i": attached, "h": [history]}
    parameters = {f"{prefix}{index}_{column}": value for prefix, table_rows in by_prefix.items()
                  for index, row in enumerate(table_rows) for column, value in row.items()}
    # On the driver (priyom_kit.driver_statements): SQLAlchemy's processing of some forty values cost twice the
    # statement's own CPU, once a contact.
    await fetch_mappings(session, _together(tuple(client), tuple(person), tuple(history),
                                            tuple(attached[0]) if attached else (), len(attached)), parameters)
    return owner


@lru_cache(maxsize=16)
def _together(client: tuple[str, ...], person: tuple[str, ...], history: tuple[str, ...],
              identifier: tuple[str, ...], attached: int) -> Insert:
    """The one statement for rows with these columns and ``attached`` identifiers, built once (building and
    cache-keying a statement per call costs more than running it). Parameter ``c0_name`` is the card's name,
    ``i1_value`` the second identifier's value."""
    card = clients.insert().values(_bound("c0_", client)).returning(clients.c.id).cte("new_card")
    persons = (contact_persons.insert().values(_bound("p0_", person)).returning(contact_persons.c.id)
               .cte("new_person"))
    statement = contact_history.insert().values(_bound("h0_", history)).add_cte(card, persons)
    # A CTE an identifier: SQLAlchemy caches no multi-row VALUES, and compiling this statement every time cost
    # more than the round trips it saves.
    for index in range(attached):
        statement = statement.add_cte(identifiers.insert().values(_bound(f"i{index}_", identifier))
                                      .returning(identifiers.c.id).cte(f"new_identifier_{index}"))
    return statement


def _bound(prefix: str, columns: Sequence[str]) -> dict[str, Any]:
    return {column: bindparam(f"{prefix}{column}") for column in columns}
