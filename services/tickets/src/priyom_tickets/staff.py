"""Staff accounts and the authenticator that turns a bearer token into a :class:`~.access.Staff`.

Tokens are random (32 bytes), shown once when the account is made or its token rotated, and stored only as
their SHA-256, so the database never holds a usable secret. Each expires (``TICKETS_STAFF_TOKEN_DAYS``) and can
be revoked; rotating gives a new one and ends the old at once. The environment's admin token and the services'
credentials are checked first, exactly as every other service checks them (:mod:`priyom_kit.staff_auth`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Select, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import StaffPreferences, utcnow
from priyom_kit.auth import Authenticator
from priyom_kit.staff_auth import KIT_ROLE, MAX_TOKEN_CHARS, StaffVerifier

from .access import Staff, StaffRole, staff_of
from .tables import staff


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: How long a token lives unless the service is told otherwise.
DEFAULT_LIFETIME = timedelta(days=90)


async def create(session: AsyncSession, name: str, role: StaffRole, teams: Iterable[str],
                 extension: str | None = None, lifetime: timedelta = DEFAULT_LIFETIME, email: str | None = None) -> str:
    """Make an account; returns its token (the only time it is seen). IntegrityError when the name or the
    extension is taken."""
    token, now = secrets.token_urlsafe(32), utcnow()
    await session.execute(staff.insert().values(name=name, role=role.value, teams=sorted(set(teams)),
                                                token_sha256=digest(token), created_at=now,
                                                token_expires_at=now + lifetime, extension=extension,
                                                email=email))
    return token


async def rotate(session: AsyncSession, name: str, lifetime: timedelta = DEFAULT_LIFETIME) -> str | None:
    """A new token for the account (the old one stops working now); None when there is no such account."""
    token = secrets.token_urlsafe(32)
    result = await session.execute(staff.update().where(staff.c.name == name).values(
        token_sha256=digest(token), token_expires_at=utcnow() + lifetime, token_revoked_at=None))
    return token if result.rowcount else None


async def revoke(session: AsyncSession, name: str) -> bool:
    """End the account's token now (the account and its history stay; rotating gives it a new one)."""
    result = await session.execute(staff.update().where(staff.c.name == name).values(token_revoked_at=utcnow()))
    return bool(result.rowcount)


async def change(session: AsyncSession, name: str, values: dict[str, str | None]) -> RowMapping | None:
    """Set a member of staff's phone extension and e-mail address (those given; None takes one away); None when
    there is no such account, IntegrityError when another has that extension."""
    if values:
        await session.execute(staff.update().where(staff.c.name == name).values(**values))
    return (await session.execute(_public().where(staff.c.name == name))).mappings().first()


async def extension_of(session: AsyncSession, name: str) -> str | None:
    """The phone extension on a staff member's record, by name."""
    return (await session.execute(select(staff.c.extension).where(staff.c.name == name))).scalar()


async def preferences_of(session: AsyncSession, name: str) -> StaffPreferences:
    """The console language and time zone a member of staff chose (both None when they never did, and for the
    environment's admin, who has no account to keep them on)."""
    row = (await session.execute(select(staff.c.locale, staff.c.time_zone)
                                 .where(staff.c.name == name))).mappings().first()
    return StaffPreferences.model_validate(dict(row)) if row else StaffPreferences()


async def mail_of(session: AsyncSession, name: str) -> tuple[str, str | None] | None:
    """Where a member of staff is mailed and in which language: (address, console locale); None without one."""
    row = (await session.execute(select(staff.c.email, staff.c.locale).where(staff.c.name == name))).first()
    return (row.email, row.locale) if row and row.email else None


async def set_preferences(session: AsyncSession, name: str, preferences: StaffPreferences) -> bool:
    """Keep an agent's console language and time zone on their account; False when there is no such account."""
    result = await session.execute(staff.update().where(staff.c.name == name).values(
        locale=preferences.locale, time_zone=preferences.time_zone))
    return bool(result.rowcount)


async def extensions(session: AsyncSession) -> list[RowMapping]:
    """Every member of staff who has a phone extension: name and extension, by name."""
    result = await session.execute(select(staff.c.name, staff.c.extension)
                                   .where(staff.c.extension.is_not(None)).order_by(staff.c.name))
    return list(result.mappings())


async def holder_of_extension(session: AsyncSession, extension: str) -> Staff | None:
    """The member of staff whose extension it is (their access decides what a pop-up there shows)."""
    row = (await session.execute(select(staff).where(staff.c.extension == extension))).mappings().first()
    return as_staff(row) if row else None


async def by_name(session: AsyncSession, name: str) -> Staff | None:
    """The staff account of ``name`` (None for the environment's admin and service credentials)."""
    row = (await session.execute(select(staff).where(staff.c.name == name))).mappings().first()
    return as_staff(row) if row else None


def _public() -> Select[Any]:
    return select(staff.c.name, staff.c.role, staff.c.teams, staff.c.extension, staff.c.email, staff.c.created_at,
                  staff.c.token_expires_at, staff.c.token_revoked_at)


async def listing(session: AsyncSession) -> list[RowMapping]:
    result = await session.execute(_public().order_by(staff.c.name))
    return list(result.mappings())


async def active_names(session: AsyncSession) -> list[str]:
    """The names of the staff accounts whose token is not revoked: who may be assigned, mentioned, escalated to."""
    return [row["name"] for row in await listing(session) if row["token_revoked_at"] is None]


def as_staff(row: RowMapping) -> Staff:
    role = StaffRole(row["role"])
    return Staff(row["name"], frozenset({KIT_ROLE[role]}), role, frozenset(row["teams"]), account=True)


def authenticator(sessions: Callable[[], async_sessionmaker[AsyncSession]], admin_token: SecretStr | None,
                  service_tokens: Mapping[str, SecretStr] | None = None) -> Authenticator:
    """Accept the environment's admin token and the services' credentials, then a staff account's token
    that has neither expired nor been revoked."""
    local = StaffVerifier(admin_token=admin_token, service_tokens=service_tokens or {}, staff=None).local

    async def authenticate(token: str) -> Staff | None:
        principal = local(token)
        if principal is not None:
            return staff_of(principal)
        if len(token) > MAX_TOKEN_CHARS:
            return None
        async with sessions()() as session:
            row = (await session.execute(select(staff).where(staff.c.token_sha256 == digest(token)))
                   ).mappings().first()
        if row is None or row["token_revoked_at"] is not None:
            return None
        if row["token_expires_at"] is not None and row["token_expires_at"] <= utcnow():
            return None
        return as_staff(row)

    return authenticate
