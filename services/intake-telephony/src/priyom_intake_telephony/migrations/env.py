"""Alembic environment of the intake-telephony service (its own version table, shared kit logic)."""

from priyom_intake_telephony.store import VERSION_TABLE, metadata
from priyom_kit.migrations import run_env

run_env(metadata, VERSION_TABLE)
