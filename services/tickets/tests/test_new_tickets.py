"""A new ticket's first rows written at once (``priyom_tickets.new_tickets``): on PostgreSQL its number, the
ticket, its first message and history line are one statement; on SQLite four. Either way they read back as
the step-by-step writes made them; numbering, races and repeats are test_store.py's."""

from __future__ import annotations

from sqlalchemy import event, literal, select

from priyom_contracts import AttachmentRef
from priyom_kit import driver_statements
from priyom_kit.db import Database, Inbox, make_engine
from priyom_kit.pytest_plugin import create_pg_database, drop_pg_database
from priyom_tickets import store, tables
from priyom_tickets.arrivals import register_contact
from priyom_tickets.new_tickets import formatted_in_sql
from priyom_tickets.numbering import format_number


def listen(database: Database) -> list[tuple[str, object]]:
    """Every statement the database's engine sends from now on, with whether its compiled form was cached (None:
    sent on the driver, without SQLAlchemy's execution context)."""
    sent: list[tuple[str, object]] = []
    assert database._engine is not None
    event.listen(database._engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, _p, context, _m: sent.append(
                     (statement, context.cache_hit if context is not None else None)))
    return sent


def writes_of(sent: list[tuple[str, object]], *tables_: str) -> list[str]:
    return [s for s, _ in sent if s.lstrip().upper().startswith(("INSERT", "WITH", "UPDATE"))
            and any(f"INTO {t} " in s for t in tables_)]


async def test_number_ticket_message_and_history_are_one_statement_on_postgresql(
        database: Database, inbox: Inbox, make_routed, nth) -> None:
    attachment = AttachmentRef(blob_key="b" * 64, filename="счёт.pdf", content_type="application/pdf", size=10)
    routed = make_routed(attachments=[attachment], assignee="ivanov")
    sent = listen(database)
    created, new = await register_contact(database.sessions, inbox, routed)
    assert new and created.number == nth(1)
    first_rows = writes_of(sent, "ticket_number_years", "tickets", "ticket_messages", "ticket_history")
    # (A sender with no address to answer gets no registration notice: no message of ours is written.)
    assert len(first_rows) == (1 if database.backend == "postgresql" else 4), first_rows

    async with database.sessions() as session:
        ticket = (await session.execute(select(tables.tickets).where(
            tables.tickets.c.number == created.number))).mappings().one()
        messages = await store.messages_of(session, ticket["seq"])
        history = await store.history_of(session, ticket["seq"])
        files = (await session.execute(select(tables.ticket_attachments.c.filename))).scalars().all()
    assert (ticket["contact_id"], ticket["assignee"], ticket["status"]) == (routed.contact.contact_id, "ivanov", "new")
    inbound = [m for m in messages if m["direction"] == "inbound"]
    assert [(m["body"], m["contact_id"], m["channel"]) for m in inbound] == [
        (routed.contact.body, routed.contact.contact_id, "web")]
    assert [(h["actor"], h["action"], h["to_status"], h["details"]["assignee"]) for h in history][:1] == [
        ("tickets", "registered", "new", "ivanov")]
    assert files == ["счёт.pdf"]


async def test_the_statement_is_compiled_once_not_per_ticket(database: Database, inbox: Inbox, make_routed) -> None:
    sent = listen(database)
    compiled = []
    for _ in range(3):
        await register_contact(database.sessions, inbox, make_routed())
        compiled.append(driver_statements.compilations)
    opening = [hit for statement, hit in sent if "INTO tickets " in statement]
    assert len(opening) == 3
    if database.backend == "postgresql":  # on the driver, which compiles a statement once (no context)
        assert compiled[1:] == [compiled[0]] * 2 and opening == [None] * 3, (compiled, opening)
    else:
        assert len(set(opening[1:])) == 1 and "HIT" in str(opening[-1]), opening


async def test_the_number_drawn_in_postgresql_is_spelled_as_format_number_spells_it() -> None:
    counts = [1, 42, 999_999, 1_000_000, 123_456_789]
    url = await create_pg_database()  # the number is drawn in the ticket's insert on PostgreSQL only
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            spelled = [(await connection.execute(select(formatted_in_sql(literal("2026-"), literal(count)))))
                       .scalar_one() for count in counts]
    finally:
        await engine.dispose()
        await drop_pg_database(url)
    assert spelled == [format_number(2026, count) for count in counts]
