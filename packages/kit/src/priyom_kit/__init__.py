"""Priyom's service kit: the one way every service runs on the bus (see each module's docstring).

The names below are imported on first use (PEP 562), not with the package: a pure module (a channel's
mapping, the e-mail parser) that needs one helper from the kit does not pull in the broker client, FastAPI
and SQLAlchemy with it. ``from priyom_kit import Bus`` works as before.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .auth import Principal, Role, require_roles
    from .bus import Bus, Publish
    from .errors import PermanentError, PriyomError, TransientError
    from .http_client import HttpClient
    from .logging import configure_logging, get_logger, mask_pii
    from .service import ServiceParts, build_app
    from .settings import DatabaseSettings, ServiceSettings

#: Public name -> the module that defines it.
_EXPORTS = {
    "Bus": "bus",
    "DatabaseSettings": "settings",
    "HttpClient": "http_client",
    "PermanentError": "errors",
    "Publish": "bus",
    "Principal": "auth",
    "PriyomError": "errors",
    "Role": "auth",
    "ServiceParts": "service",
    "ServiceSettings": "settings",
    "TransientError": "errors",
    "build_app": "service",
    "configure_logging": "logging",
    "get_logger": "logging",
    "mask_pii": "logging",
    "require_roles": "auth",
}

__all__ = [
    "Bus",
    "DatabaseSettings",
    "HttpClient",
    "PermanentError",
    "Publish",
    "Principal",
    "PriyomError",
    "Role",
    "ServiceParts",
    "ServiceSettings",
    "TransientError",
    "build_app",
    "configure_logging",
    "get_logger",
    "mask_pii",
    "require_roles",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'priyom_kit' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
