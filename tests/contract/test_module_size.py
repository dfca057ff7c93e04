"""Modules stay small enough to read in one sitting: no non-test module of a package or service over 400
lines (split by responsibility, as router does)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400


def test_no_module_over_the_limit() -> None:
    sources = [p for top in ("packages", "services") for p in (ROOT / top).rglob("*.py")
               if "tests" not in p.relative_to(ROOT).parts and "migrations" not in p.parts]
    assert len(sources) > 100
    over = {str(p.relative_to(ROOT)): n for p in sources if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT}
    assert over == {}
