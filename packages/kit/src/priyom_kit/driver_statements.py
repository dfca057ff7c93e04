"""Hot statements straight on the driver: a statement SQLAlchemy built and compiled, executed by asyncpg itself.

A ringing phone's pop-up is one indexed read of a few rows. Through SQLAlchemy's execution layer (execution
context, parameter processing, the cursor adapter, result metadata, row objects) that read cost about twice
the CPU of the same statement sent by asyncpg (0.25 against 0.11 ms measured), and a contact's new card, written
in one statement of some forty values, 0.18 against 0.08 ms. :func:`fetch_mappings` keeps SQLAlchemy for what
it is good at, writing the SQL for the dialect, and compiles each statement once per dialect; on PostgreSQL it
then hands the SQL to asyncpg, which prepares it once per connection and returns its records. Elsewhere
(SQLite, the embedded default) the statement runs through SQLAlchemy as usual. Reads and writes alike: inside
a session's transaction it runs on the session's connection, so a write is committed or rolled back with the
rest.

Only for statements whose SQL does not depend on the values: an expanding ``IN`` list (whose length changes
the SQL) is refused; spell it ``= ANY(:array)`` (:func:`any_of`). Values are passed as the driver takes them:
no SQLAlchemy type processing on the way in or out but for JSON columns (their values are written with the
database's JSON codec, as SQLAlchemy would: a None that is not SQL NULL becomes JSON ``null``), so the other
columns must be types asyncpg takes and returns as the application wants them (text, numbers, booleans, UUIDs,
timestamps with time zone, aware datetimes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, ColumnElement, String, TypeDecorator, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeEngine

from . import json_codec

#: (statement, dialect name) → (SQL, parameter names in order, the values compiled into the statement, the
#: parameters of JSON columns and whether each writes None as SQL NULL).
_Compiled = tuple[str, tuple[str, ...], dict[str, Any], tuple[tuple[int, bool], ...]]
_compiled: dict[tuple[int, str], tuple[Executable, _Compiled]] = {}
#: Statements compiled so far in this process (each once per dialect), for the tests.
compilations = 0


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
    global compilations
    compilations += 1
    compiled = statement.compile(dialect=dialect)
    sql = str(compiled)
    if "__[POSTCOMPILE_" in sql:
        raise ValueError("a driver statement cannot take an expanding IN list: spell it with any_of(), or as "
                         "comparisons with the values written in")
    names = tuple(compiled.positiontup or ())
    # The values written into the statement (literals, limits); the rest are the caller's to give.
    written = {name: compiled.binds[name].effective_value for name in names if not compiled.binds[name].required}
    json = tuple((at, json_type.none_as_null) for at, name in enumerate(names)
                 if isinstance(json_type := _json_of(compiled.binds[name].type), JSON))
    entry: _Compiled = (sql, names, written, json)
    _compiled[key] = (statement, entry)  # the statement kept too: its id is not reused while it lives
    return entry


def _json_of(bound: TypeEngine[Any]) -> TypeEngine[Any]:
    return bound.impl_instance if isinstance(bound, TypeDecorator) else bound  # a JSON column's own type


async def fetch_mappings(executor: AsyncConnection | AsyncSession, statement: Executable,
                         params: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The rows of ``statement`` with ``params``, each readable by column name (``row["number"]``); none for
    a statement that returns none. A session's statement runs in its transaction."""
    if isinstance(executor, AsyncSession) and executor.bind is not None and executor.bind.dialect.driver == "asyncpg":
        executor = await executor.connection()
    if isinstance(executor, AsyncConnection) and executor.dialect.driver == "asyncpg":
        sql, names, compiled, json = _compile(statement, executor.dialect)
        try:
            args = [params[name] if name in params else compiled[name] for name in names]
        except KeyError as missing:
            raise ValueError(f"no value for the parameter {missing} of a driver statement") from None
        for at, none_as_null in json:
            if not (args[at] is None and none_as_null):
                args[at] = json_codec.dumps(args[at])
        # The connection is open (a reader is only handed out connected); get_raw_connection() would cost a
        # greenlet switch per read to reach the same object. An invalidated one goes the long way and fails.
        raw = (executor.sync_connection.connection
               if executor.sync_connection is not None and not executor.invalidated
               else await executor.get_raw_connection())
        # SQLAlchemy's adapter sends BEGIN lazily, before its own first statement of a transaction: one sent
        # past it must do the same, or it would run (and a write commit) on its own. An autocommit connection
        # (the readers) begins nothing. Pinned by tests/test_driver_statements.py.
        adapter = raw.dbapi_connection
        # Announced to the connection's listeners as SQLAlchemy announces its own statements (the tests count
        # what a piece of work sends); without a cursor or an execution context, which the driver has not.
        sync = executor.sync_connection
        if sync is not None and (sync._has_events or sync.engine._has_events):
            sync.dispatch.before_cursor_execute(sync, None, sql, args, None, False)
        try:
            if adapter._transaction is None:
                await adapter._start_transaction()
            return await raw.driver_connection.fetch(sql, *args)
        except Exception as error:  # noqa: BLE001 - raised again as SQLAlchemy would have raised it
            raise _as_sqlalchemy_raises(executor, adapter, sql, args, error) from error
    result = await executor.execute(statement, dict(params))
    return result.mappings().all() if result.returns_rows else []


def _as_sqlalchemy_raises(executor: AsyncConnection, adapter: Any, sql: str, args: list[Any],
                          error: Exception) -> Exception:
    """What SQLAlchemy raises for ``error`` on its own path (``sqlalchemy.exc.IntegrityError`` for a unique
    violation, which the callers' race handling catches), the connection invalidated when it is lost."""
    try:
        adapter._handle_exception(error)  # raises the driver's error as the adapter's DB-API error
    except Exception as dbapi_error:  # noqa: BLE001 - translated, not handled
        dialect = executor.dialect
        lost = dialect.is_disconnect(dbapi_error, adapter, None)
        if lost and executor.sync_connection is not None:
            executor.sync_connection.invalidate(dbapi_error)
        return DBAPIError.instance(sql, args, dbapi_error, dialect.loaded_dbapi.Error, dialect=dialect,
                                   connection_invalidated=lost)
    return error
