"""What a piece of work sends to its database, for tests that count statements (a batch's whole point is
fewer of them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from priyom_kit.db import Database


@contextmanager
def sent_statements(database: Database) -> Iterator[list[str]]:
    """The SQL of every statement sent to the database meanwhile, in order (SQLAlchemy's and the statements
    :mod:`priyom_kit.driver_statements` sends past it, which it announces the same way)."""
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)
    engine = database.sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)
