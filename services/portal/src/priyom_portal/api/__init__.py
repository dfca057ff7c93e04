"""The portal's HTTP routes: the knowledge base's JSON API and its server-rendered pages, and the customer's
account pages (sign-in by code, "my requests", a new request)."""

from .dependencies import PortalParts
from .kb import kb_router
from .new_request_pages import new_request_router
from .pages import pages_router
from .request_pages import requests_router
from .sign_in_pages import sign_in_router

__all__ = ["PortalParts", "kb_router", "new_request_router", "pages_router", "requests_router", "sign_in_router"]
