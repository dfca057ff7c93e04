"""Hot reads straight on the driver: a statement SQLAlchemy built and compiled, executed by asyncpg itself.

A ringing phone's pop-up is one indexed read of a few rows. Through SQLAlchemy's execution layer (execution
context, parameter processing, the cursor adapter, result metadata, row objects) that read cost about twice
the CPU of the same statement sent by asyncpg (0.25 against 0.11 ms measured). :func:`fetch_mappings` keeps
SQLAlchemy for what it is good at, writing the SQL for the dialect, and compiles each statement once per
dialect; on PostgreSQL it then hands the SQL to asyncpg, which prepares it once per connection and returns
its records. Elsewhere (SQLite, the embedded default) the statement runs through SQLAlchemy as usual.

Only for statements whose SQL does not depend on the values: an expanding ``IN`` list (whose length changes
the SQL) is refused; spell it ``= ANY(:array)`` (:func:`any_of`). Values are passed as the driver takes them: no SQLAlchemy type processing on the way in or
out, so the columns read this way must be types asyncpg returns as the application wants them (text,
numbers, UUIDs, timestamps with time zone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeEngine

#: (statement, dialect name) → (SQL, parameter names in order, the values compiled into the statement).
_Compiled = tuple[str, tuple[str, ...], dict[str, Any]]
_compiled: dict[tuple[int, str], tuple[Executable, _Compiled]] = {}


def any_of(column: ColumnElement[Any], name: str, dialect_name: str,
           item_type: TypeEngine[Any] | None = None) -> ColumnElement[bool]:
    """``column`` is one of the list bound as ``name``, spelled so the SQL does not depend on its length on
    PostgreSQL (``= ANY($n::VARCHAR[])``, one prepared statement for any list; ``item_type`` for lists of
    other than strings) and as ``IN`` elsewhere."""
    if dialect_name == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(item_type or String())))
    return column.in_(bindparam(name, expanding=True))


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    key = (id(statement), dialect.name)
    kept = _compiled.get(key)
    if kept is not None and kept[0] is statement:
        return kept[1]
    compiled = statement.compile(dialect=dialect)
    sql = str(compiled)
    if "__[POSTCOMPILE_" in sql:
        raise ValueError("a driver read cannot take an expanding IN list: spell it with any_of(), or as "
                         "comparisons with the values written in")
    names = tuple(compiled.positiontup or ())
    # The values written into the statement (literals, limits); the rest are the caller's to give.
    written = {name: compiled.binds[name].effective_value for name in names if not compiled.binds[name].required}
    entry: _Compiled = (sql, names, written)
    _compiled[key] = (statement, entry)  # the statement kept too: its id is not reused while it lives
    return entry


async def fetch_mappings(executor: AsyncConnection | AsyncSession, statement: Executable,
                         params: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The rows of ``statement`` with ``params``, each readable by column name (``row["number"]``)."""
    if isinstance(executor, AsyncConnection) and executor.dialect.driver == "asyncpg":
        sql, names, compiled = _compile(statement, executor.dialect)
        try:
            args = [params[name] if name in params else compiled[name] for name in names]
        except KeyError as missing:
            raise ValueError(f"no value for the parameter {missing} of a driver read") from None
        # The connection is open (a reader is only handed out connected); get_raw_connection() would cost a
        # greenlet switch per read to reach the same object. An invalidated one goes the long way and fails.
        raw = (executor.sync_connection.connection
               if executor.sync_connection is not None and not executor.invalidated
               else await executor.get_raw_connection())
        return await raw.driver_connection.fetch(sql, *args)
    return (await executor.execute(statement, dict(params))).mappings().all()
