"""aiogram's Telegram types, each built when first used instead of all of them at import.

``aiogram.types`` ends by calling ``model_rebuild`` on each of its ~440 Telegram types, with one namespace
holding them all, to resolve their forward references: that builds every validator and serialiser at
import, 1.9 s and about 100 MB, most of this service's idle memory (225 MB), for the few dozen types a bot
ever sees. :func:`import_lazily` imports aiogram with each of those rebuilds replaced by what pydantic
does for a model whose build is deferred: the names the model refers to are put in its module's globals,
where pydantic resolves references, and the model stays incomplete until pydantic builds it, the first
time it validates or serialises, alone or inside another model (``pydantic._internal._mock_val_ser``). The types come out the same; only when
they are built changes. Measured: ``import aiogram`` 166 MB and 2.7 s of RSS and time, lazily 60 MB and
0.8 s; an ``Update`` with a message then builds in 0.09 s and 3 MB.

It must run before anything imports aiogram (the package's ``__init__`` calls it); once aiogram was
imported the usual way it does nothing.
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

from pydantic import BaseModel

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _referenced(cls: type) -> set[str]:
    """The names the annotations of ``cls`` and of its aiogram bases spell (aiogram writes them as strings)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("aiogram."):
            for annotation in vars(klass).get("__annotations__", {}).values():
                names.update(_NAME.findall(annotation if isinstance(annotation, str) else repr(annotation)))
    return names


def import_lazily() -> None:
    if "aiogram.types" in sys.modules:
        return
    eager = BaseModel.__dict__["model_rebuild"]

    def deferred(cls: type[BaseModel], *args: Any, _types_namespace: Any = None, **kwargs: Any) -> Any:
        if args or kwargs or _types_namespace is None or not cls.__module__.startswith("aiogram."):
            return eager.__func__(cls, *args, _types_namespace=_types_namespace, **kwargs)
        if not cls.__pydantic_complete__:
            # Where pydantic looks a reference up when it builds the model, alone or inside another one
            # (``Response[list[Update]]``): the globals of the model's module, which import the types
            # they refer to only for type checkers.
            module = vars(sys.modules[cls.__module__])
            for name in _referenced(cls):
                if name in _types_namespace:
                    module.setdefault(name, _types_namespace[name])
        return None

    BaseModel.model_rebuild = classmethod(deferred)  # type: ignore[method-assign,assignment]
    try:
        importlib.import_module("aiogram.types")
    finally:
        BaseModel.model_rebuild = eager  # type: ignore[method-assign]
