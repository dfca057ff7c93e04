"""Macros and canned answers: a reply text with variables, and the changes one click makes to a ticket.

As in Zammad, a macro may carry a text for the reply (``{{client}}``, ``{{number}}``, ``{{agent}}``,
``{{subject}}`` and ``{{team}}`` filled from the ticket and the agent), and changes it makes at once: a lifecycle
action (with a decision where the action needs one), the ticket's type, the type's fields. The text only goes
into the agent's reply box: the agent reads it, edits it and sends it as any reply, so a macro never answers a
customer by itself.

Who sees and who edits which macro:
- ``personal``: its owner only;
- ``team``: the team's members use it; its team head, supervisors and admins write it;
- ``shared``: everyone uses it; supervisors and admins write it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import StaffRole

from .access import SEES_ALL, Staff
from .tables import macros

#: The variables a text may use, and nothing else (an unknown one is refused when the macro is saved).
VARIABLES = ("client", "number", "agent", "subject", "team")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")


class Scope(StrEnum):
    PERSONAL = "personal"
    TEAM = "team"
    SHARED = "shared"


def unknown_variables(text: str) -> list[str]:
    """The ``{{names}}`` in ``text`` that are not variables, so a typo is refused, not sent to a customer."""
    return sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - set(VARIABLES))


def render(text: str, ticket: Mapping[str, Any], agent: str) -> str:
    """``text`` with its variables filled; a value the ticket lacks (no client name yet) becomes empty."""
    values = {"client": ticket.get("client_name") or "", "number": ticket["number"], "agent": agent,
              "subject": ticket.get("subject") or "", "team": ticket["team"]}
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def may_write(staff: Staff, scope: Scope, team: str | None, owner: str | None) -> bool:
    """Whether ``staff`` may create, change or delete a macro of this scope (see the module's rules)."""
    if scope is Scope.PERSONAL:
        return owner == staff.name
    if staff.staff_role in SEES_ALL:
        return True
    return scope is Scope.TEAM and staff.staff_role is StaffRole.TEAM_HEAD and team in staff.teams


def _visible_to(staff: Staff) -> Any:
    mine = (macros.c.scope == Scope.PERSONAL) & (macros.c.owner == staff.name)
    shared = macros.c.scope == Scope.SHARED
    if staff.staff_role in SEES_ALL:
        return or_(mine, shared, macros.c.scope == Scope.TEAM)
    return or_(mine, shared, (macros.c.scope == Scope.TEAM) & macros.c.team.in_(sorted(staff.teams)))


async def listing(session: AsyncSession, staff: Staff) -> list[RowMapping]:
    """The macros ``staff`` may use: their own, their teams', the shared ones; by name."""
    query = select(macros).where(_visible_to(staff)).order_by(macros.c.name, macros.c.id)
    return list((await session.execute(query)).mappings())


async def get(session: AsyncSession, staff: Staff, macro_id: uuid.UUID) -> RowMapping | None:
    """The macro if ``staff`` may use it (None otherwise: a colleague's personal macro is not there for them)."""
    query = select(macros).where(macros.c.id == macro_id, _visible_to(staff))
    return (await session.execute(query)).mappings().first()


async def create(session: AsyncSession, values: Mapping[str, Any], *, author: str, now: datetime) -> uuid.UUID:
    macro_id = uuid.uuid4()
    await session.execute(macros.insert().values(id=macro_id, created_by=author, created_at=now, updated_at=now,
                                                 **values))
    return macro_id


async def change(session: AsyncSession, macro_id: uuid.UUID, values: Mapping[str, Any], now: datetime) -> None:
    await session.execute(update(macros).where(macros.c.id == macro_id).values(updated_at=now, **values))


async def remove(session: AsyncSession, macro_id: uuid.UUID) -> None:
    await session.execute(delete(macros).where(macros.c.id == macro_id))
