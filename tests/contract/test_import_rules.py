"""Architecture rules from .importlinter, checked on every test run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is not installed (it is in requirements-dev.txt)"
    result = subprocess.run([lint, "--config", str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_shipped_package_depends_on_the_test_support() -> None:
    """``priyom-testing`` is installed for development only: no service, nor the kit or the contracts, lists it."""
    import tomllib

    shipped = [ROOT / "packages" / "contracts", ROOT / "packages" / "kit",
               *(path.parent for path in (ROOT / "services").glob("*/pyproject.toml"))]
    for package in shipped:
        project = tomllib.loads((package / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        wanted = [*project.get("dependencies", []),
                  *(d for group in project.get("optional-dependencies", {}).values() for d in group)]
        assert not [d for d in wanted if d.startswith("priyom-testing")], f"{package.name} depends on priyom-testing"
