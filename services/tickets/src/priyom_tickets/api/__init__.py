"""The tickets HTTP API, one module per resource; each holds a module-level router (see :mod:`.deps`)."""

from fastapi import APIRouter

from . import activities, client_panel, console, ratings, replies, reports, staff, tickets
from .deps import ApiParts, UploadLimits
from .ratings import PUBLIC_PREFIX

#: Every router of the API, in the order their routes are matched.
ROUTERS: tuple[APIRouter, ...] = (tickets.router, replies.router, activities.router, ratings.router,
                                  reports.router, staff.router, client_panel.router, console.router)

__all__ = ["PUBLIC_PREFIX", "ROUTERS", "ApiParts", "UploadLimits"]
