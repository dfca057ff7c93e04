"""Which ticket each contact became, on its history entry (from tickets' ``ticket.created``), so an agent sees
it on the card's history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import String, Uuid, bindparam, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_kit.driver_statements import fetch_mappings

from .tables import contact_history


async def note_tickets(session: AsyncSession, numbers: Sequence[tuple[uuid.UUID, str]]) -> set[uuid.UUID]:
    """Write each contact's ticket number on its history entry; returns the contacts that have one (a contact
    identity never saw, registered elsewhere, has none: nothing to note). On PostgreSQL a batch's numbers are
    written by one statement."""
    if not numbers:
        return set()
    if session.bind.dialect.name == "postgresql":
        # On the driver (priyom_kit.driver_statements): once a batch on every contact's way, and its run through
        # SQLAlchemy's execution layer was 2% of identity's CPU at saturation.
        rows = await fetch_mappings(session, _NOTE_ALL, {"contact_ids": [contact_id for contact_id, _ in numbers],
                                                         "numbers": [number for _, number in numbers]})
        return {row["contact_id"] for row in rows}
    noted = set()
    for contact_id, number in numbers:
        if (await session.execute(_NOTE_ONE, {"contact": contact_id, "number": number})).rowcount:
            noted.add(contact_id)
    return noted


_NOTE_ONE = (update(contact_history).where(contact_history.c.contact_id == bindparam("contact"))
             .values(ticket_number=bindparam("number")))
# unnest() pairs the two arrays row by row; a contact twice in a batch (a ticket announced again) gets the same
# number either way.
_NOTE_ALL = text(
    "UPDATE contact_history SET ticket_number = noted.number"
    " FROM unnest(:contact_ids, :numbers) AS noted(contact_id, number)"
    " WHERE contact_history.contact_id = noted.contact_id RETURNING contact_history.contact_id"
).bindparams(bindparam("contact_ids", type_=ARRAY(Uuid())), bindparam("numbers", type_=ARRAY(String())))
