"""Every package declares what it imports, and imports what it declares (deptry, per package).

A service installed alone, as its Dockerfile installs it, gets only what its pyproject.toml names: an import
that works here only because another editable package brought the library into the shared virtualenv fails
there at start. So does an import of a library that reaches the service only through the kit (a transitive
dependency: the kit may drop it). An unused declaration costs image size and audit work. Dependencies
used without an import (database drivers, python-multipart) are listed with their reason under
``[tool.deptry.per_rule_ignores]`` in each pyproject.toml.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p.parent for p in [*ROOT.glob("packages/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")])


def _deptry() -> str:
    beside = Path(sys.executable).parent / "deptry"
    found = str(beside) if beside.exists() else shutil.which("deptry")
    if found is None:
        pytest.fail("deptry is not installed: make install (requirements-dev.txt)")
    return found


def _check(package: Path) -> tuple[Path, int, str]:
    result = subprocess.run([_deptry(), ".", "--no-ansi"], cwd=package, capture_output=True, text=True, timeout=120)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if ": DEP0" in line]
    return package, result.returncode, "\n".join(problems) or result.stderr[-2000:]


def test_every_package_declares_exactly_what_it_imports() -> None:
    # One deptry per package (each reads its own pyproject.toml), run side by side: about a second in all.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_check, PACKAGES))
    failures = [f"{package.relative_to(ROOT)}:\n{report}" for package, code, report in results if code != 0]
    assert not failures, "dependency problems (DEP001 missing, DEP002 unused, DEP003 transitive, DEP004 dev " \
                         "only):\n" + "\n".join(failures)
