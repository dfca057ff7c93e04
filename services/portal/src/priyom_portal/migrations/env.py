"""Alembic environment of the portal: the kit runs it; this file only names the schema and version table."""

from priyom_kit.migrations import run_env
from priyom_portal.tables import metadata

run_env(metadata, "alembic_version_portal")
