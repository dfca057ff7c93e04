"""Alembic environment of the tickets service (its own version table, shared kit logic)."""

from priyom_kit.migrations import run_env
from priyom_tickets.tables import VERSION_TABLE, metadata

run_env(metadata, VERSION_TABLE)
