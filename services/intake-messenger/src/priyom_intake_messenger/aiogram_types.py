"""aiogram's Telegram types and methods, each built when first used instead of all of them at import.

``import aiogram`` builds the validators and serialisers of its ~440 Telegram types and ~170 methods at
once: each model as its class is created, and ``aiogram.types`` then calls ``model_rebuild`` on every type,
with one namespace holding them all, to resolve their forward references. That is 2.7 s and about 110 MB,
most of this service's idle memory (225 MB), for the few dozen types and methods a bot ever uses.
:func:`import_lazily` imports aiogram doing for its models what pydantic does for a model configured
``defer_build``: the class is created with placeholders (``set_model_mocks``) and pydantic builds it the
first time it validates or serialises, alone or inside another model (``pydantic._internal._mock_val_ser``).
The names a type refers to (imported by aiogram only for type checkers) are put in its module's globals,
where pydantic resolves references. The models come out the same; only when they are built changes.
Measured: the service's idle RSS, its bot polling, 225 -> 118.5 MB (``make bench-memory``); importing its
app 2.0 s and 110 MB; an ``Update`` then builds in 0.09 s and 3 MB; every type and method built would
bring it back to 217 MB.

It must run before anything imports aiogram (the package's ``__init__`` calls it); once aiogram was
imported the usual way it does nothing.
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

from pydantic import BaseModel
from pydantic._internal import _model_construction

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

    complete = getattr(_model_construction, "complete_model_class", None)
    mocks = getattr(_model_construction, "set_model_mocks", None)
    if complete is None or mocks is None:  # pydantic's insides moved: aiogram is imported the usual way
        importlib.import_module("aiogram.types")
        return

    def defer_aiogram(cls: type[BaseModel], *args: Any, **kwargs: Any) -> bool:
        """What pydantic does instead for a model configured ``defer_build``."""
        if not cls.__module__.startswith("aiogram."):
            return complete(cls, *args, **kwargs)
        mocks(cls)
        return False

    BaseModel.model_rebuild = classmethod(deferred)  # type: ignore[method-assign,assignment]
    _model_construction.complete_model_class = defer_aiogram
    try:
        importlib.import_module("aiogram.types")
    finally:
        BaseModel.model_rebuild = eager  # type: ignore[method-assign]
        _model_construction.complete_model_class = complete
