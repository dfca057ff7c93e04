"""Staff accounts and the authenticator that turns a bearer token into a :class:`~.access.Staff`.

Tokens are random (32 bytes), shown once when the account is made, and stored only as their SHA-256, so the
database never holds a usable secret. The environment's admin token keeps working beside the accounts.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Select, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import utcnow
from priyom_kit.auth import Authenticator, admin_token_authenticator

from .access import KIT_ROLE, Staff, StaffRole, staff_of
from .tables import staff


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(session: AsyncSession, name: str, role: StaffRole, teams: Iterable[str],
                 extension: str | None = None) -> str:
    """Make an account; returns its token (the only time it is seen). IntegrityError when the name or the
    extension is taken."""
    token = secrets.token_urlsafe(32)
    await session.execute(staff.insert().values(name=name, role=role.value, teams=sorted(set(teams)),
                                                token_sha256=digest(token), created_at=utcnow(),
                                                extension=extension))
    return token


async def set_extension(session: AsyncSession, name: str, extension: str | None) -> RowMapping | None:
    """Give a member of staff a phone extension (None takes it away); None when there is no such account,
    IntegrityError when another has that extension."""
    await session.execute(staff.update().where(staff.c.name == name).values(extension=extension))
    return (await session.execute(_public().where(staff.c.name == name))).mappings().first()


async def extension_of(session: AsyncSession, name: str) -> str | None:
    """The phone extension on a staff member's record, by name."""
    return (await session.execute(select(staff.c.extension).where(staff.c.name == name))).scalar()


def _public() -> Select[Any]:
    return select(staff.c.name, staff.c.role, staff.c.teams, staff.c.extension, staff.c.created_at)


async def listing(session: AsyncSession) -> list[RowMapping]:
    result = await session.execute(_public().order_by(staff.c.name))
    return list(result.mappings())


def as_staff(row: RowMapping) -> Staff:
    role = StaffRole(row["role"])
    return Staff(row["name"], frozenset({KIT_ROLE[role]}), role, frozenset(row["teams"]))


def authenticator(sessions: Callable[[], async_sessionmaker[AsyncSession]],
                  admin_token: SecretStr | None) -> Authenticator:
    """Accept the environment's admin token, then any staff account's token."""
    admin = admin_token_authenticator(admin_token)

    async def authenticate(token: str) -> Staff | None:
        principal = await admin(token)
        if principal is not None:
            return staff_of(principal)
        if len(token) > 200:
            return None
        async with sessions()() as session:
            row = (await session.execute(select(staff).where(staff.c.token_sha256 == digest(token)))
                   ).mappings().first()
        return as_staff(row) if row else None

    return authenticate
