"""Priyom's service kit: the one way every service runs on the bus (see each module's docstring)."""

from .auth import Principal, Role, require_roles
from .bus import Bus
from .errors import PermanentError, PriyomError, TransientError
from .logging import configure_logging, get_logger, mask_pii
from .service import ServiceParts, build_app
from .settings import ServiceSettings

__all__ = [
    "Bus",
    "PermanentError",
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
