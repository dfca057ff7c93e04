"""The customers' sign-in codes and sessions in the portal's database (hashes only: :mod:`.sign_in`).

A code is checked under a row lock (PostgreSQL), so two entries of the same code race to one result: one
session, or one more wrong attempt each. A spent, used or expired code answers like an unknown one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .sign_in import Account, Identifier, same
from .tables import portal_sessions, portal_sign_in_codes


@dataclass(frozen=True)
class Customer:
    """A signed-in customer, as their session row holds them."""

    account: Account
    identifier: Identifier
    language: str
    expires_at: datetime


@dataclass(frozen=True)
class CodeOutcome:
    """``customer`` when the code was right; otherwise ``attempts_left`` (0: ask for a new code)."""

    customer: Customer | None
    attempts_left: int = 0


async def save_code(session: AsyncSession, attempt_id: uuid.UUID, code_hash: str, identifier: Identifier,
                    account: Account, language: str, now: datetime, ttl: timedelta) -> datetime:
    """Keep a code's hash for ``ttl``; returns when it expires."""
    expires_at = now + ttl
    await session.execute(insert(portal_sign_in_codes).values(
        id=attempt_id, code_hash=code_hash, identifier_kind=identifier.kind, identifier_value=identifier.value,
        client_id=account.client_id, person_id=account.person_id, sees_organisation=account.sees_organisation,
        reads_clients=account.reads_clients, language=language, created_at=now, expires_at=expires_at))
    return expires_at


async def check_code(session: AsyncSession, attempt_id: uuid.UUID, hash_of: Callable[[str], str], code: str, *,
                     max_attempts: int, now: datetime, session_ttl: timedelta) -> CodeOutcome:
    """Spend one entry of the code; the right code (unused, unexpired, attempts left) signs the customer in.
    The caller commits (a wrong entry counts too) and then opens the session it was given."""
    row = (await session.execute(select(portal_sign_in_codes).where(portal_sign_in_codes.c.id == attempt_id)
                                 .with_for_update())).first()
    if row is None or row.used_at is not None or row.expires_at <= now or row.attempts >= max_attempts:
        return CodeOutcome(None)
    if not same(row.code_hash, hash_of(code)):
        await session.execute(update(portal_sign_in_codes).where(portal_sign_in_codes.c.id == attempt_id)
                              .values(attempts=row.attempts + 1))
        return CodeOutcome(None, max_attempts - row.attempts - 1)
    await session.execute(update(portal_sign_in_codes).where(portal_sign_in_codes.c.id == attempt_id)
                          .values(used_at=now, attempts=row.attempts + 1))
    return CodeOutcome(Customer(Account(row.client_id, row.person_id, row.sees_organisation, row.reads_clients),
                                Identifier(row.identifier_kind, row.identifier_value), row.language,
                                now + session_ttl))


async def open_session(session: AsyncSession, token_hash: str, customer: Customer, now: datetime) -> None:
    account = customer.account
    await session.execute(insert(portal_sessions).values(
        token_hash=token_hash, client_id=account.client_id, person_id=account.person_id,
        sees_organisation=account.sees_organisation, reads_clients=account.reads_clients, identifier_kind=customer.identifier.kind,
        identifier_value=customer.identifier.value, language=customer.language, created_at=now,
        expires_at=customer.expires_at))


def _customer(row: Row) -> Customer:
    return Customer(Account(row.client_id, row.person_id, row.sees_organisation, row.reads_clients),
                    Identifier(row.identifier_kind, row.identifier_value), row.language, row.expires_at)


async def customer_of(session: AsyncSession, token_hash: str, now: datetime) -> Customer | None:
    """The customer of a live session (not ended, not expired), or None."""
    row = (await session.execute(select(portal_sessions).where(
        portal_sessions.c.token_hash == token_hash, portal_sessions.c.ended_at.is_(None),
        portal_sessions.c.expires_at > now))).first()
    return _customer(row) if row is not None else None


async def end_session(session: AsyncSession, token_hash: str, now: datetime) -> None:
    await session.execute(update(portal_sessions).where(portal_sessions.c.token_hash == token_hash,
                                                        portal_sessions.c.ended_at.is_(None))
                          .values(ended_at=now))
