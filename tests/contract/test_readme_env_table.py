"""The README documents every environment variable with its default, as the settings classes declare it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_configuration_tables_are_current() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "env_table.py")], capture_output=True,
                            text=True, check=True, timeout=120)
    table = result.stdout.strip()
    assert "PRIYOM_ADMIN_TOKEN" in table and "TICKETS_DATABASE_URL" in table
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert table in readme, "settings changed: paste `python scripts/env_table.py` into README.md"
