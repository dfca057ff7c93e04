"""What the repository says about each service, for comparing with the manifests: its entry point, its
settings class and the environment names that class reads, whether it has a ``migrate`` verb, the user its
image runs as."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import tomllib
from functools import cache
from pathlib import Path

from pydantic import AliasChoices

from priyom_kit.settings import ServiceSettings

from .render import ROOT

SERVICES = tuple(sorted(path.parent.name for path in (ROOT / "services").glob("*/pyproject.toml")))


def source(service: str) -> Path:
    return ROOT / "services" / service / "src" / package(service)


@cache
def package(service: str) -> str:
    """The importable package of the service's one console script (``priyom_tickets.__main__:main``)."""
    scripts = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"]["scripts"]
    (target,) = scripts.values()
    module, _, _ = target.partition(":")
    assert module.endswith(".__main__"), f"{service}'s entry point {target} is not its package's __main__"
    return module.removesuffix(".__main__")


@cache
def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"{package(service)}.settings")
    (cls,) = [c for _, c in inspect.getmembers(module, inspect.isclass)
              if issubclass(c, ServiceSettings) and c.__module__ == module.__name__]
    return cls


@cache
def setting_names(service: str) -> frozenset[str]:
    """Every environment variable the service's settings read (pydantic-settings matches them case-blind)."""
    cls = settings_class(service)
    prefix = cls.model_config.get("env_prefix", "")
    names = set()
    for field, info in cls.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        else:
            names.add(f"{prefix}{field}")
    return frozenset(name.upper() for name in names)


@cache
def verbs(service: str) -> frozenset[str]:
    """The verbs its ``__main__`` hands to the kit's ``cli``: always serve, migrate where it passes one."""
    tree = ast.parse((source(service) / "__main__.py").read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "id", getattr(node.func, "attr", None)) == "cli"]
    assert calls, f"{service}'s __main__ does not call the kit's cli"
    return frozenset({"serve"} | {kw.arg for call in calls for kw in call.keywords if kw.arg == "migrate"})


def uses_blobs(service: str) -> bool:
    """Whether the service opens the shared attachment store (and so needs PRIYOM_BLOB_DIR mounted)."""
    return "open_blob_store" in (source(service) / "app.py").read_text()


def image_uid(service: str) -> int | None:
    """The uid the service's Dockerfile creates for its user, if it names one."""
    found = re.search(r"--uid\s+(\d+)", (ROOT / "services" / service / "Dockerfile").read_text())
    return int(found[1]) if found else None
