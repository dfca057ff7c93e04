"""Turning routed contacts into tickets, on SQLite and PostgreSQL: numbering, duplicates, races, contents."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from priyom_contracts import AttachmentRef, TicketCreated, TicketStatus, Urgency
from priyom_kit.db import Database, Inbox
from priyom_kit.outbox import Relay
from priyom_tickets import new_tickets, store, tables
from priyom_tickets.arrivals import inbox_key, register_contact
from priyom_tickets.handlers import on_contact_routed
from priyom_tickets.numbering import parse_number


async def count(database: Database, table) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_migrations_create_exactly_the_declared_schema(database: Database) -> None:
    def diff(connection):
        # The trigram indexes of migration 0007 exist on PostgreSQL only and are not in the metadata.
        opts = {"compare_type": True, "version_table": tables.VERSION_TABLE,
                "include_name": lambda name, kind, _: not (kind == "index" and str(name).endswith("_trgm"))}
        return compare_metadata(MigrationContext.configure(connection, opts=opts), tables.metadata)

    async with database.sessions() as session:
        connection = await session.connection()
        assert await connection.run_sync(diff) == []
        if connection.dialect.name == "postgresql":
            indexes = await connection.execute(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm'"))
            assert sorted(indexes.scalars()) == ["ix_ticket_messages_body_trgm", "ix_tickets_subject_trgm"]


async def test_numbers_are_sequential(database: Database, inbox: Inbox, make_routed, nth) -> None:
    numbers = [(await register_contact(database.sessions, inbox, make_routed()))[0].number for _ in range(3)]
    assert numbers == [nth(1), nth(2), nth(3)]


async def test_concurrent_different_contacts_get_distinct_consecutive_numbers(
    database: Database, inbox: Inbox, make_routed, nth
) -> None:
    results = await asyncio.gather(*(register_contact(database.sessions, inbox, make_routed())
                                     for _ in range(10)))
    assert sorted(created.number for created, _ in results) == [nth(i) for i in range(1, 11)]
    assert all(new for _, new in results)


async def test_redelivery_gives_one_ticket_and_the_same_announcement(
    database: Database, inbox: Inbox, make_routed
) -> None:
    event = make_routed()
    first, first_new = await register_contact(database.sessions, inbox, event)
    again, again_new = await register_contact(database.sessions, inbox, event)

    assert (first_new, again_new) == (True, False)
    assert again == first  # same message_id too: subscribers can drop the repeat
    assert await count(database, tables.tickets) == 1
    assert await count(database, tables.ticket_messages) == 1


async def test_concurrent_duplicate_deliveries_give_one_ticket(
    database: Database, inbox: Inbox, make_routed
) -> None:
    event = make_routed()
    results = await asyncio.gather(*(register_contact(database.sessions, inbox, event) for _ in range(8)))

    assert sum(new for _, new in results) == 1
    assert {created.message_id for created, _ in results} == {results[0][0].message_id}
    assert await count(database, tables.tickets) == 1
    assert await count(database, tables.ticket_messages) == 1
    # The losers drew no number: the next ticket follows on without a gap.
    following, _ = await register_contact(database.sessions, inbox, make_routed())
    assert parse_number(following.number)[1] == parse_number(results[0][0].number)[1] + 1


async def test_same_channel_key_under_a_new_contact_id_is_the_same_arrival(
    database: Database, inbox: Inbox, make_routed
) -> None:
    # An adapter that registered one e-mail twice (after a restart, say) gives it two contact ids.
    first = make_routed(channel="email", key="<abc@mail.example.ru>")
    second = make_routed(channel="email", key="<abc@mail.example.ru>")
    results = await asyncio.gather(register_contact(database.sessions, inbox, first),
                                   register_contact(database.sessions, inbox, second))

    assert results[0][0] == results[1][0]
    assert await count(database, tables.tickets) == 1
    # The same key on another channel is another arrival.
    web = make_routed(channel="web", key=first.idempotency_key)
    other, new = await register_contact(database.sessions, inbox, web)
    assert new and parse_number(other.number)[1] == parse_number(results[0][0].number)[1] + 1


async def test_same_contact_under_another_key_finds_its_ticket(
    database: Database, inbox: Inbox, make_routed
) -> None:
    first = make_routed()
    created, _ = await register_contact(database.sessions, inbox, first)
    stray = make_routed(contact_id=first.contact.contact_id, key="another-key")
    again, new = await register_contact(database.sessions, inbox, stray)

    assert not new and again == created
    assert await count(database, tables.tickets) == 1


async def test_ticket_keeps_the_contact_the_routing_and_the_attachments(
    database: Database, inbox: Inbox, make_routed
) -> None:
    pdf = AttachmentRef(blob_key="a" * 64, filename="акт сверки.pdf", content_type="application/pdf",
                        size=1234)
    event = make_routed(attachments=[pdf], assignee="Иванова", urgency=Urgency.HIGH, first_contact=False)
    published: list[TicketCreated] = []

    async def publish(message) -> None:
        published.append(message)

    relay = Relay(lambda: database.sessions, publish, tables.ticket_outbox)
    created, new = await on_contact_routed(event, sessions=database.sessions, inbox=inbox, relay=relay)
    assert new

    assert published == [created]  # through the outbox, flushed once the contact was recorded
    assert (created.correlation_id, created.channel, created.idempotency_key) == (
        event.correlation_id, event.channel, event.idempotency_key)
    assert (created.status, created.urgency) == (TicketStatus.NEW, Urgency.HIGH)
    assert created.assignee == "Иванова"
    async with database.sessions() as session:
        ticket = await store.get_ticket(session, created.number)
        assert ticket is not None
        messages = await store.messages_of(session, ticket["seq"])
        attachments = await store.attachments_of(session, [m["id"] for m in messages])
        recorded = await inbox.recall(session, inbox_key(event.channel, event.idempotency_key))
    assert ticket is not None
    assert ticket["contact_id"] == event.contact.contact_id
    assert ticket["client_id"] == event.client.client_id
    assert ticket["first_contact"] is False
    assert ticket["status"] == "new"
    assert ticket["routing_reason"] == event.routing.reason
    assert ticket["first_response_due_at"] == event.routing.first_response_due_at
    assert ticket["created_at"].tzinfo is UTC
    assert [m["body"] for m in messages] == [event.contact.body]
    assert messages[0]["sender"]["email"] == "anna@example.ru"
    assert messages[0]["created_at"] == event.contact.received_at
    assert [(a["filename"], a["size"], a["blob_key"]) for a in attachments] == [
        ("акт сверки.pdf", 1234, "a" * 64)]
    assert TicketCreated.model_validate(recorded) == created


async def test_a_very_long_channel_key_still_deduplicates(
    database: Database, inbox: Inbox, make_routed
) -> None:
    # 510 characters: the key fits the inbox column alone, but not with its channel in front.
    event = make_routed(channel="email", key="<" + "x" * 492 + "@mail.example.ru>")
    assert len(inbox_key(event.channel, event.idempotency_key)) <= 512
    results = [await register_contact(database.sessions, inbox, event) for _ in range(2)]
    assert [new for _, new in results] == [True, False]


async def test_list_filters_and_pages_newest_first(database: Database, inbox: Inbox, make_routed,
                                          nth) -> None:
    client = uuid.uuid4()
    for i in range(5):
        await register_contact(database.sessions, inbox,
                               make_routed(client_id=client if i % 2 == 0 else None, team=f"team-{i % 2}"))
    async with database.sessions() as session:
        rows, total = await store.list_tickets(session, store.TicketFilter(), limit=2, offset=1)
        theirs = store.TicketFilter(client_id=client, team="team-0")
        mine, mine_total = await store.list_tickets(session, theirs, limit=10, offset=0)
    assert total == 5
    assert [r["number"] for r in rows] == [nth(4), nth(3)]
    assert mine_total == 3
    assert [r["number"] for r in mine] == [nth(5), nth(3), nth(1)]


async def test_upgrade_numbers_existing_tickets_and_keeps_their_messages(tmp_path) -> None:
    """A database made by 0001 with tickets in it: 0002+ gives them YYYY-NNNNNN numbers per year, in order,
    keeps every message on its ticket, and the next registration continues the year's count."""
    from alembic import command
    from alembic.config import Config

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(tables.MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["version_table"] = tables.VERSION_TABLE
    await asyncio.to_thread(command.upgrade, config, "0001")
    db = Database(url)
    await db.open()
    try:
        async with db.sessions() as session:
            for number, year in ((1, 2025), (2, 2026), (3, 2026)):
                await session.execute(text(
                    "INSERT INTO tickets (number, id, contact_id, channel, idempotency_key, client_id, first_contact,"
                    " type, category, urgency, status, team, routing_reason, first_response_due_at,"
                    " resolution_due_at, created_at, updated_at) VALUES (:n, :id, :c, 'web', :k, :cl, 1,"
                    " 'service_request', 's', 'normal', 'new', 'service', 'r', :t, :t, :t, :t)"),
                    {"n": number, "id": uuid.uuid4().hex, "c": uuid.uuid4().hex, "k": f"k{number}",
                     "cl": uuid.uuid4().hex, "t": f"{year}-06-01 10:00:00.000000"})
                await session.execute(text(
                    "INSERT INTO ticket_messages (id, ticket_number, direction, channel, body, created_at)"
                    " VALUES (:id, :n, 'inbound', 'web', :b, :t)"),
                    {"id": uuid.uuid4().hex, "n": number, "b": f"сообщение {number}",
                     "t": f"{year}-06-01 10:00:00.000000"})
            await session.commit()
    finally:
        await db.close()

    await asyncio.to_thread(tables.migrate_database, url)
    db = Database(url)
    await db.open()
    try:
        async with db.sessions() as session:
            rows = (await session.execute(select(tables.tickets.c.seq, tables.tickets.c.number)
                                          .order_by(tables.tickets.c.seq))).all()
            assert [r.number for r in rows] == ["2025-000001", "2026-000001", "2026-000002"]
            for seq, _ in rows:
                assert [m["body"] for m in await store.messages_of(session, seq)] == [f"сообщение {seq}"]
            assert await new_tickets.next_number(session, 2026) == "2026-000003"
            assert await new_tickets.next_number(session, 2027) == "2027-000001"
    finally:
        await db.close()
