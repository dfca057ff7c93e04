"""Alembic environment of the router: the kit runs it; this file only names the schema and version table."""

from priyom_kit.migrations import run_env
from priyom_router.tables import metadata

run_env(metadata, "alembic_version_router")
