"""Alembic environment of identity: the kit runs it; this file only names the schema and version table."""

from priyom_identity.tables import metadata
from priyom_kit.migrations import run_env

run_env(metadata, "alembic_version_identity")
