"""The body of every service's Alembic ``env.py``: async engines, batch mode for SQLite, own version table.

A service's ``env.py`` is two lines: import its metadata and call :func:`run_env`. Each service keeps its own
version table so two services may share one database without their migration histories colliding.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from .db import make_engine


def _configure_and_run(connection: Connection, metadata: MetaData, version_table: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table instead
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str, metadata: MetaData, version_table: str) -> None:
    engine = make_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_configure_and_run, metadata, version_table)
        await connection.commit()
    await engine.dispose()


def run_env(metadata: MetaData, default_version_table: str) -> None:
    """Run migrations for the URL in the Alembic config (offline mode prints SQL)."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set: run migrations through the service's 'migrate' command")
    version_table: Any = config.attributes.get("version_table", default_version_table)
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, version_table=version_table,
                          literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, metadata, version_table))


def create_extension_or_warn(name: str, purpose: str) -> bool:
    """In a migration on PostgreSQL: create extension ``name`` if the role may; False (with a warning naming
    ``purpose``) where it may not, or on another database, so the migration skips what needs it.

    A missing privilege must not stop a deployment: what the extension serves (an index, say) only makes
    something faster, and the migration's caller decides what to skip.
    """
    import logging

    from alembic import op

    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    try:
        with bind.begin_nested():
            op.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')
    except Exception as exc:  # noqa: BLE001 - any refusal (privilege, missing contrib package) is the same
        logging.getLogger("alembic").warning("%s unavailable, %s: %s", name, purpose, exc)
        return False
    return True
