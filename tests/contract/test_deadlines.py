"""Bounded waits in the shipped code and the test support go through ``priyom_kit.deadlines.bounded``:
Python 3.11's ``asyncio.wait_for`` can lose a cancellation, and a loop stopped by cancelling it then goes on
(the lease runner did, in CI). The tests' own bodies may still use it: nothing stops them by cancellation."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_for_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "asyncio":
            found += [node.lineno for alias in node.names if alias.name == "wait_for"]
        elif (isinstance(node, ast.Attribute) and node.attr == "wait_for" and isinstance(node.value, ast.Name)
              and node.value.id == "asyncio"):
            found.append(node.lineno)
    return found


def test_no_source_module_bounds_a_wait_with_asyncio_wait_for() -> None:
    sources = [p for top in ("packages", "services") for p in (ROOT / top).glob("*/src/**/*.py")]
    assert len(sources) > 100
    uses = {f"{p.relative_to(ROOT)}:{line}" for p in sources for line in wait_for_calls(p)}
    assert uses == set()


def test_the_check_sees_both_spellings(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import asyncio\nfrom asyncio import wait_for\n\nasync def f(c):\n"
                      "    await asyncio.wait_for(c.wait_for(), 1)\n    await c.wait_for(lambda: True)\n")
    assert wait_for_calls(module) == [2, 5]
