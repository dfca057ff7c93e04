"""An erasure request redacts the person's tickets in place: words, addresses, files gone; rows and numbers kept."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from priyom_contracts import AttachmentRef, CallOutcome, ClientErased, PersonErased, Sender, utcnow
from priyom_kit.blobs import FileBlobStore
from priyom_kit.db import Database, Inbox
from priyom_tickets import card_reach, handlers, notes, tables
from priyom_tickets.arrivals import register_contact

from .conftest import MakeRouted
from .test_call_backs import phoned


async def dump(database: Database) -> str:
    """Every row of every table, as text: what an auditor would grep."""
    async with database.sessions() as session:
        rows = [str(row) for table in tables.metadata.sorted_tables
                for row in (await session.execute(select(table))).all()]
    return "\n".join(rows)


async def test_a_private_persons_tickets_are_redacted_and_counted(database: Database, inbox: Inbox,
                                                                  make_routed: MakeRouted, tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path)
    scan = await blobs.put(b"passport of Anna Petrova")
    kept = await blobs.put(b"someone else's file")
    first = make_routed(subject="Счёт для Анны Петровой", body="Анна Петрова, тел. +7 912 000-00-00",
                        attachments=[AttachmentRef(blob_key=scan, filename="petrova.pdf", content_type="application/pdf",
                                                   size=24)])
    created, _ = await register_contact(database.sessions, inbox, first)
    call = phoned(make_routed(channel="phone", subject="Missed call from +79120000000", body="",
                              client_id=first.client.client_id, first_contact=False), CallOutcome.ABANDONED)
    called, _ = await register_contact(database.sessions, inbox, call)
    other = make_routed(body="Чужое обращение", sender=Sender(name="Пётр Иванов", email="petr@example.ru"),
                        attachments=[AttachmentRef(
        blob_key=kept, filename="other.pdf", content_type="application/pdf", size=19)])
    await register_contact(database.sessions, inbox, other)
    async with database.sessions() as session, session.begin():  # the copy of the card's addresses
        await card_reach.keep(session, first.client.client_id, card_reach.CardReach(
            undeliverable={"anna@example.ru": "550"}, emails=("anna.petrova@example.ru",)), utcnow())
    erasure_id = uuid.uuid4()
    erasure = ClientErased(correlation_id=erasure_id, channel="api", idempotency_key=f"erasure:{erasure_id}",
                           erasure_id=erasure_id, client_id=first.client.client_id,
                           person_id=first.client.person_id, contact_ids=[first.contact.contact_id])

    counts = await handlers.on_erasure(erasure, sessions=database.sessions, blobs=blobs)

    assert counts["tickets.tickets"] == 2 and counts["tickets.ticket_messages"] == 2 and counts["blobs"] == 1
    assert counts["tickets.ticket_activities"] == 1 and counts["tickets.card_reach"] == 1
    text = await dump(database)
    for word in ("Петров", "+7 912 000-00-00", "79120000000", "anna@example.ru", "petrova"):
        assert word not in text, word
    assert "Чужое обращение" in text and await blobs.get(kept) == b"someone else's file"
    assert await blobs.size(scan) is None
    assert created.number in text and called.number in text, "the numbers stay"
    again = await handlers.on_erasure(erasure, sessions=database.sessions, blobs=blobs)
    assert again["blobs"] == 0 and again["tickets.tickets"] == 2, "a repeat redacts the same rows, deletes nothing"


async def test_a_company_contacts_erasure_leaves_the_companys_other_tickets(database: Database, inbox: Inbox,
                                                                           make_routed: MakeRouted) -> None:
    mine = make_routed(body="Пишет Олег Сидоров", sender=Sender(name="Олег Сидоров"))
    await register_contact(database.sessions, inbox, mine)
    colleague = make_routed(body="Пишет коллега", sender=Sender(name="Пётр Иванов"), client_id=mine.client.client_id, first_contact=False)
    await register_contact(database.sessions, inbox, colleague)
    erasure_id = uuid.uuid4()
    erasure = PersonErased(correlation_id=erasure_id, channel="api", idempotency_key=f"erasure:{erasure_id}",
                           erasure_id=erasure_id, client_id=mine.client.client_id, person_id=mine.client.person_id)
    counts = await handlers.on_erasure(erasure, sessions=database.sessions,
                                     blobs=FileBlobStore(Path("/nonexistent")))
    text = await dump(database)
    assert counts["tickets.tickets"] == 1 and "Сидоров" not in text
    assert "Пишет коллега" in text and "ООО Ромашка" in text, "the company and its other people stay"


async def test_agents_notes_on_the_persons_tickets_are_redacted(database: Database, inbox: Inbox,
                                                                make_routed: MakeRouted) -> None:
    event = make_routed(body="Вопрос")
    created, _ = await register_contact(database.sessions, inbox, event)
    async with database.sessions() as session, session.begin():
        ticket = (await session.execute(select(tables.tickets).where(tables.tickets.c.number == created.number))
                  ).mappings().one()
        await notes.add(session, ticket, author="Иванова", body="Звонила Анна Петрова, +7 912 000-00-00",
                        now=utcnow())
    erasure_id = uuid.uuid4()
    erasure = ClientErased(correlation_id=erasure_id, channel="api", idempotency_key=f"erasure:{erasure_id}",
                           erasure_id=erasure_id, client_id=event.client.client_id,
                           person_id=event.client.person_id, contact_ids=[event.contact.contact_id])
    counts = await handlers.on_erasure(erasure, sessions=database.sessions, blobs=FileBlobStore(Path("/nonexistent")))
    assert counts["tickets.ticket_notes"] == 1
    text = await dump(database)
    assert "Петрова" not in text and "912 000" not in text and "Иванова" in text, "the author stays"
