"""Print the environment variables of every service as Markdown tables, read from the settings classes.

``.venv/bin/python scripts/env_table.py`` — paste the output into the README's configuration section when a
service's settings change. The names, defaults and descriptions come from the code, so the table cannot
drift from what the services actually read.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from priyom_kit import ServiceSettings
from priyom_kit.secret_files import env_names

ROOT = Path(__file__).resolve().parents[1]
#: Per service only: the shared class has them too, but each service reads them under its own prefix.
PER_SERVICE = {"host", "port"}
#: Meanings for fields declared without a description.
FALLBACK = {"port": "HTTP listen port", "host": "HTTP listen address",
            "log_level": "Log level: DEBUG, INFO, WARNING or ERROR"}


def default_of(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value: Any = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "*(required)*"
    else:
        value = info.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or value == "":
        return "*(empty)*"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple | dict):
        value = json.dumps(value, ensure_ascii=False)  # pydantic-settings reads collections as JSON
    return f"`{value}`"


def row(name: str, names: list[str], info: FieldInfo) -> str:
    described = (info.description or FALLBACK.get(name, "")).replace("|", "\\|").replace("\n", " ")
    return f"| {' / '.join(f'`{n}`' for n in names)} | {default_of(info)} | {described} |"


def settings_class(module_name: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"{module_name}.settings")
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, ServiceSettings) and c is not ServiceSettings and c.__module__ == module.__name__]
    if len(classes) != 1:
        raise SystemExit(f"{module_name}.settings: expected one ServiceSettings subclass, found {classes}")
    return classes[0]


def main() -> int:
    header = ["| variable | default | meaning |", "|---|---|---|"]
    shared = ServiceSettings.model_fields
    print("Shared by every service (no prefix):\n")
    print("\n".join(header))
    for name, info in shared.items():
        if name not in PER_SERVICE:
            print(row(name, env_names(name, info, ""), info))
    for folder in sorted(p.parent for p in (ROOT / "services").glob("*/pyproject.toml")):
        module_name = f"priyom_{folder.name.replace('-', '_')}"
        try:
            cls = settings_class(module_name)
        except ImportError as error:
            print(f"\n<!-- {folder.name}: settings not importable: {error} -->", file=sys.stderr)
            continue
        prefix = str(cls.model_config.get("env_prefix", ""))
        print(f"\n{folder.name} (`{prefix}*`):\n")
        print("\n".join(header))
        for name, info in cls.model_fields.items():
            if name in shared and name not in PER_SERVICE:
                continue  # documented once, in the shared table
            print(row(name, env_names(name, info, prefix), info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
