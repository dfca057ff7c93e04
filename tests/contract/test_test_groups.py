"""`make test` runs `pytest -n 4 --dist loadgroup`, and tests/e2e/conftest.py groups the tests that share a
stack of service processes so the stack starts on one worker only. When pytest and pytest-xdist stop agreeing on
how a group is carried (pytest 9.2 with xdist 3.8: pytest-xdist#1386) nothing fails: the stacks just start on
every worker, and the suite takes minutes longer and picks ports under more contention. This runs a small
suite the way `make test` does and checks a group stays on one worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFTEST = '''
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if "shared" in item.name:
            item.add_marker(pytest.mark.xdist_group("shared"))
'''

TESTS = '''
import os
from pathlib import Path

import pytest

def record(name):
    Path(os.environ["WORKERS_SEEN"], name).write_text(os.environ["PYTEST_XDIST_WORKER"])

@pytest.mark.parametrize("n", range(6))
def test_shared(n):
    record(f"shared-{n}")

@pytest.mark.parametrize("n", range(6))
def test_alone(n):
    record(f"alone-{n}")
'''


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    suite, seen = tmp_path / "suite", tmp_path / "seen"
    suite.mkdir()
    seen.mkdir()
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_groups.py").write_text(TESTS)
    (suite / "pytest.ini").write_text("[pytest]\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider",
                             "-q", str(suite)], cwd=suite, capture_output=True, text=True, timeout=120,
                            env={"WORKERS_SEEN": str(seen), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    workers = {path.name: path.read_text() for path in seen.iterdir()}
    assert len(workers) == 12
    assert len({w for name, w in workers.items() if name.startswith("shared")}) == 1, workers
    assert len(set(workers.values())) == 2, "the ungrouped tests still spread over both workers"
