"""What the router holds on a person, for identity's subject access export (152-FZ art. 14, GDPR art. 15).

The router keeps one thing that can name a person: the type corrections agents made on their tickets, with
the ticket's subject and text (kept to train the classifier). Routing decisions and the queue hold ids,
teams and times only. Identity calls this with the person's ticket numbers and contact ids.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from sqlalchemy import or_, select

from priyom_contracts import PersonRecords, SubjectExport
from priyom_kit import Principal, Role, require_roles
from priyom_kit.db import Database

from .tables import type_corrections

#: Identity, with its own service credential, or the admin.
INTERNAL = require_roles(Role.SERVICE)


def subject_export_router(database: Database) -> APIRouter:
    router = APIRouter(prefix="/api/v1/internal", tags=["privacy"])

    @router.post("/subject-export", summary="Everything the router holds on a person, for identity's subject "
                 "access export (identity calls it with its own service credential; admins may too)")
    async def subject_export(person: PersonRecords, _: Annotated[Principal, Depends(INTERNAL)]) -> SubjectExport:
        query = select(type_corrections).where(or_(
            type_corrections.c.ticket_number.in_(person.ticket_numbers or [""]),
            type_corrections.c.contact_id.in_(person.contact_ids or [])))
        async with database.sessions() as session:
            rows = [jsonable_encoder(dict(row)) for row in (await session.execute(query)).mappings()]
        return SubjectExport(service="router", records={"type_corrections": rows})

    return router
