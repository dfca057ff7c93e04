"""Protocol code stays pure: the ``mail`` package imports no broker, database, network or GPL client, so it is
tested on recorded samples alone (CONVENTIONS: MIME normalising never imports faststream)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import priyom_intake_email.mail as mail

ALLOWED_THIRD_PARTY = {"charset_normalizer"}


def test_mail_package_imports_only_the_stdlib_and_charset_normalizer() -> None:
    foreign: list[str] = []
    for path in sorted(Path(mail.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ALLOWED_THIRD_PARTY:
                    foreign.append(f"{path.name}: {name}")
    assert foreign == []
