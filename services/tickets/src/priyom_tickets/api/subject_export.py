"""Subject access (152-FZ art. 14, GDPR art. 15): everything tickets holds on a person, as JSON.

Identity, which knows who the person is, asks with :class:`~priyom_contracts.PersonRecords` (their contacts,
ticket numbers, person and card) and gathers this answer with its own into one export. The tickets are found
as an erasure finds them (:func:`~priyom_tickets.erasure_redaction.tickets_of`), so what is exported is what an erasure
would redact.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import PersonRecords, SubjectExport

from ..erasure_redaction import any_in, messages_of, tickets_of
from ..tables import (
    ticket_activities,
    ticket_attachments,
    ticket_history,
    ticket_messages,
    ticket_ratings,
    tickets,
)
from .deps import Internal, Session

router = APIRouter(prefix="/api/v1/internal", tags=["privacy"])


async def export(session: AsyncSession, person: PersonRecords) -> SubjectExport:
    seqs = await tickets_of(session, person)
    message_ids = list((await session.execute(select(ticket_messages.c.id).where(
        messages_of(seqs, person.contact_ids)))).scalars())
    queries = {
        "tickets": select(tickets).where(any_in(tickets.c.seq, seqs)),
        "ticket_messages": select(ticket_messages).where(any_in(ticket_messages.c.id, message_ids)),
        "ticket_attachments": select(ticket_attachments).where(any_in(ticket_attachments.c.message_id,
                                                                       message_ids)),
        "ticket_activities": select(ticket_activities).where(any_in(ticket_activities.c.ticket_seq, seqs)),
        "ticket_ratings": select(ticket_ratings).where(any_in(ticket_ratings.c.ticket_seq, seqs)),
        "ticket_history": select(ticket_history).where(any_in(ticket_history.c.ticket_seq, seqs)),
    }
    records = {name: [jsonable_encoder(dict(row)) for row in (await session.execute(query)).mappings()]
               for name, query in queries.items()}
    return SubjectExport(service="tickets", records=records)


@router.post("/subject-export", summary="Everything tickets holds on a person, for identity's subject access "
             "export (identity calls it with its own service credential; admins may too)")
async def subject_export(person: PersonRecords, _: Internal, session: Session) -> SubjectExport:
    return await export(session, person)
