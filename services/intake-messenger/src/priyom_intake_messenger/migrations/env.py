"""Alembic environment of intake-messenger: the kit runs it; this file only names the schema and version table."""

from priyom_intake_messenger.store import VERSION_TABLE, metadata
from priyom_kit.migrations import run_env

run_env(metadata, VERSION_TABLE)
