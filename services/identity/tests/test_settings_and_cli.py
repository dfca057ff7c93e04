"""Configuration from the environment, and the ``migrate`` verb as an operator runs it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from priyom_identity.settings import IdentitySettings
from priyom_identity.store import MIGRATIONS_DIR


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IDENTITY_DATABASE_URL", "DATABASE_URL", "IDENTITY_PORT", "IDENTITY_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    defaults = IdentitySettings()
    assert (defaults.port, defaults.default_region) == (8001, "RU")
    assert defaults.database_url.get_secret_value() == "sqlite+aiosqlite:///var/identity.db"
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://shared/db")
    assert IdentitySettings().database_url.get_secret_value() == "postgresql+asyncpg://shared/db"
    monkeypatch.setenv("IDENTITY_DATABASE_URL", "postgresql+asyncpg://own/db")
    monkeypatch.setenv("IDENTITY_DEFAULT_REGION", "GB")
    monkeypatch.setenv("IDENTITY_PORT", "9001")
    own = IdentitySettings()
    assert (own.database_url.get_secret_value(), own.default_region, own.port) == (
        "postgresql+asyncpg://own/db", "GB", 9001)
    assert "own/db" not in repr(own)  # a secret, like AMQP_URL: it may carry the password


def test_migrate_command_creates_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "identity.db"
    env = {**os.environ, "IDENTITY_DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
    for _ in range(2):  # the second run finds the schema current and does nothing
        done = subprocess.run([sys.executable, "-m", "priyom_identity", "migrate"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = db.execute("SELECT version_num FROM alembic_version_identity").fetchall()
    assert {"clients", "contact_persons", "identifiers", "contact_history", "identity_inbox",
            "client_contracts", "card_audit", "erasure_requests", "erasure_reports"} <= tables
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert version == [(head,)] and head is not None  # at the newest revision, whichever that is


def test_unknown_verb_explains_usage() -> None:
    done = subprocess.run([sys.executable, "-m", "priyom_identity", "frobnicate"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "serve|migrate" in done.stderr
