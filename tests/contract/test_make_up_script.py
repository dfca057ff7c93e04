"""`make up` (scripts/up.sh) names services that exist, in a form their modules answer to.

The whole script is too slow for the suite (it installs, then runs every service until Ctrl-C), but the way
it turns a service name into a module is exactly what broke it once: ``python -m priyom_intake-email`` is
not a module. These checks run the script's own name mapping on the script's own lists.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UP = ROOT / "scripts" / "up.sh"


def migrated_services() -> list[str]:
    match = re.search(r"^for name in ([a-z\- ]+); do\n.*?migrate", UP.read_text(encoding="utf-8"), re.M | re.S)
    assert match, "scripts/up.sh no longer has its migration loop: update this test"
    return match.group(1).split()


def module_of(name: str) -> str:
    """The module name as up.sh spells it, evaluated by bash itself."""
    line = next(line for line in UP.read_text(encoding="utf-8").splitlines() if "migrate ||" in line)
    expression = re.search(r'"(priyom_[^"]+)"', line)
    assert expression, f"unexpected migration line in scripts/up.sh: {line!r}"
    result = subprocess.run(["bash", "-c", f'name={name}; echo "{expression.group(1)}"'], capture_output=True,
                            text=True, check=True, timeout=10)
    return result.stdout.strip()


def test_every_migrated_service_is_a_module_with_a_migrate_command() -> None:
    names = migrated_services()
    assert {"identity", "tickets", "router", "intake-email", "intake-messenger"} <= set(names)
    for name in names:
        module = module_of(name)
        assert importlib.util.find_spec(module) is not None, f"make up would run `python -m {module}`"
        main = (ROOT / "services" / name / "src" / module / "__main__.py").read_text(encoding="utf-8")
        assert "migrate=" in main, f"{module} has no migrate command for its cli()"


def test_every_procfile_entry_runs_an_installed_service() -> None:
    entries = [line.split(":", 1) for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
               if line and not line.startswith("#")]
    services = {path.name for path in (ROOT / "services").iterdir() if (path / "pyproject.toml").exists()}
    assert {name for name, _ in entries} == services
    for name, command in entries:
        module = command.split()[2]
        assert module == "priyom_" + name.replace("-", "_"), command
        assert importlib.util.find_spec(module) is not None, command
