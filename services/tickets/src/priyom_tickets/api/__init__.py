"""The tickets HTTP API, one module per resource; each holds a module-level router (see :mod:`.deps`)."""

from fastapi import APIRouter

from . import (
                                  activities,
                                  assignment,
                                  calls,
                                  client_panel,
                                  console,
                                  customer,
                                  dashboard,
                                  dead_letters,
                                  kb_editor,
                                  knowledge_base,
                                  live,
                                  macros,
                                  notes,
                                  ratings,
                                  replies,
                                  reports,
                                  staff,
                                  subject_export,
                                  tickets,
)
from .deps import ApiParts, UploadLimits
from .ratings import PUBLIC_PREFIX

#: Every router of the API, in the order their routes are matched.
ROUTERS: tuple[APIRouter, ...] = (dashboard.router, tickets.router, replies.router, activities.router, ratings.router,
                                  reports.router, staff.router, staff.own_router, client_panel.router, console.router,
                                  dead_letters.router, subject_export.router, notes.router, customer.router,
                                  assignment.router, macros.router, calls.router, live.router,
                                  knowledge_base.router, kb_editor.router)

__all__ = ["PUBLIC_PREFIX", "ROUTERS", "ApiParts", "UploadLimits"]
