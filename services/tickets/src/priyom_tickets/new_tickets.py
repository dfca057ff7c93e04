"""A new ticket's first rows, written together: its number drawn, the ticket, the contact that opened it as its
first message and, when the caller has one, its first history line.

Each statement costs tickets a round trip to the database and the wake-up on its other end, and these four
need nothing from one another that the database cannot pass along itself (the number to the ticket, the
ticket's ``seq`` to its message and history line). On PostgreSQL they are one statement: the number's upsert,
the ticket and the message are data-modifying CTEs, each reading the one before (PostgreSQL runs each exactly
once, in the transaction, and the number still rolls back with it: gapless). SQLite, which has no
data-modifying CTEs, gets the four statements. The rows are the same either way (:func:`store.ticket_row` and
the others).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, String, bindparam, case, cast, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from priyom_contracts import ContactRouted
from priyom_kit.driver_statements import fetch_mappings

from . import store
from .numbering import format_number
from .tables import ticket_history, ticket_messages, ticket_number_years, tickets


async def insert_ticket(session: AsyncSession, event: ContactRouted, now: datetime, year: int,
                        due: tuple[datetime, datetime] | None = None, *, flag: str | None = None,
                        first_line: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """Insert the ticket, numbered in ``year``, with its first message (and its attachments) and ``first_line``
    (:func:`store.history_row`'s columns) in its history; returns the new ticket's row. ``due`` as
    :func:`store.ticket_row` takes it.

    Raises :class:`sqlalchemy.exc.IntegrityError` when the contact (or its channel key) already has a
    ticket; the caller rolls back and reads that ticket instead.
    """
    row = store.ticket_row(event, now, due)
    message = store.inbound_message_row(event, flag=flag)
    if session.bind is None or session.bind.dialect.name != "postgresql":
        ticket = (await session.execute(_INSERT_TICKET, {"number": await next_number(session, year), **row}
                                        )).mappings().one()
        await session.execute(ticket_messages.insert(), {"ticket_seq": ticket["seq"], **message})
        if first_line is not None:
            await session.execute(ticket_history.insert(), {"ticket_seq": ticket["seq"], **first_line})
    else:
        parameters = {"n_year": year, "n_prefix": f"{year:04d}-", **_prefixed("t_", row), **_prefixed("m_", message),
                      **_prefixed("h_", first_line or {})}
        statement = _together(tuple(row), tuple(message), tuple(first_line) if first_line is not None else None)
        # On the driver (priyom_kit.driver_statements): some fifty values, whose processing by SQLAlchemy cost
        # more than the statement, once a ticket.
        (ticket,) = await fetch_mappings(session, statement, parameters)
    await store.insert_attachments(session, message["id"], event.contact.attachments)
    return ticket


async def next_number(session: AsyncSession, year: int) -> str:
    """Draw the next number of ``year`` inside the caller's transaction (gapless: it rolls back with it)."""
    statement = _NEXT_NUMBER[session.bind is not None and session.bind.dialect.name == "postgresql"]
    return format_number(year, (await session.execute(statement, {"year": year, "last": 1})).scalar_one())


def _next_number(insert: Any) -> Any:
    return (insert(ticket_number_years)
            .on_conflict_do_update(index_elements=[ticket_number_years.c.year],
                                   set_={"last": ticket_number_years.c.last + 1})
            .returning(ticket_number_years.c.last))


_NEXT_NUMBER = {True: _next_number(pg_insert), False: _next_number(sqlite_insert)}
_INSERT_TICKET = tickets.insert().returning(*tickets.c)


def formatted_in_sql(prefix: ColumnElement[str], count: ColumnElement[int]) -> ColumnElement[str]:
    """:func:`~priyom_tickets.numbering.format_number` in PostgreSQL (``prefix`` is ``"2026-"``): the count
    padded to six digits, and growing a digit past 999999 (``lpad`` alone would cut it)."""
    digits = cast(count, String)
    return prefix + case((count < 1_000_000, func.lpad(digits, 6, "0")), else_=digits)


@lru_cache(maxsize=8)
def _together(ticket: tuple[str, ...], message: tuple[str, ...], line: tuple[str, ...] | None) -> Select[Any]:
    """The one statement for rows with these columns, built once (building and cache-keying a statement per
    call costs more than running it). Parameters: ``n_year``, ``n_prefix``, then ``t_<column>`` of the ticket,
    ``m_<column>`` of the message and ``h_<column>`` of the history line."""
    drawn = (pg_insert(ticket_number_years).values(year=bindparam("n_year"), last=1)
             .on_conflict_do_update(index_elements=[ticket_number_years.c.year],
                                    set_={"last": ticket_number_years.c.last + 1})
             .returning(ticket_number_years.c.last).cte("drawn"))
    number = formatted_in_sql(bindparam("n_prefix", type_=String), drawn.c.last)
    opened = (tickets.insert()
              .from_select(["number", *ticket], select(number, *_bound("t_", tickets, ticket)).select_from(drawn))
              .returning(*tickets.c).cte("opened"))
    first_message = (ticket_messages.insert()
                     .from_select(["ticket_seq", *message],
                                  select(opened.c.seq, *_bound("m_", ticket_messages, message)).select_from(opened))
                     .cte("first_message"))
    statement = select(*opened.c).add_cte(first_message)
    if line is not None:
        statement = statement.add_cte(
            ticket_history.insert()
            .from_select(["ticket_seq", *line], select(opened.c.seq, *_bound("h_", ticket_history, line))
                         .select_from(opened))
            .cte("first_line"))
    return statement


def _bound(prefix: str, table: Any, columns: tuple[str, ...]) -> list[Any]:
    # Typed as their columns: PostgreSQL cannot tell a parameter's type from a SELECT list.
    return [bindparam(f"{prefix}{column}", type_=table.c[column].type) for column in columns]


def _prefixed(prefix: str, row: Mapping[str, Any]) -> dict[str, Any]:
    return {f"{prefix}{column}": value for column, value in row.items()}
