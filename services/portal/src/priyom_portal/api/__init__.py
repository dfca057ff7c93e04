"""The portal's HTTP routes: the knowledge base's JSON API and its server-rendered pages."""

from .dependencies import PortalParts
from .kb import kb_router
from .pages import pages_router

__all__ = ["PortalParts", "kb_router", "pages_router"]
