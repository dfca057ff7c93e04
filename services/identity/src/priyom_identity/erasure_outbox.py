"""The erasure requests, and the outbox that carries each one's ``person.erased`` / ``client.erased`` out.

The message is what makes the erasure reach tickets, router, the intakes and the blob store, so it must not
be lost between identity's commit and the broker: it is written in the erasing transaction, published right
after the commit, and a periodic resend (the kit's :class:`~priyom_kit.periodic.Periodic`) publishes every
request the broker has not confirmed yet. Publishing twice is harmless: every service's redaction is
idempotent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ClientErased, Erasure, PersonErased, utcnow
from priyom_kit import Publish, get_logger

from .tables import erasure_requests

log = get_logger("priyom.identity.erasure")

MESSAGE_TYPES: dict[str, type[Erasure]] = {t.type_name(): t for t in (PersonErased, ClientErased)}
#: Unconfirmed requests published per resend run.
RESEND_BATCH = 100


@dataclass(frozen=True)
class ErasureRequest:
    id: uuid.UUID
    person_id: uuid.UUID
    client_id: uuid.UUID
    actor: str
    requested_at: datetime
    published_at: datetime | None
    counts: dict[str, int]
    message: Erasure


def _request(row: Any) -> ErasureRequest:
    message = MESSAGE_TYPES[row.event_type].model_validate(row.message)
    return ErasureRequest(id=row.id, person_id=row.person_id, client_id=row.client_id, actor=row.actor,
                          requested_at=row.requested_at, published_at=row.published_at, counts=dict(row.counts),
                          message=message)


async def stage(session: AsyncSession, message: Erasure, *, actor: str,
                counts: dict[str, int]) -> ErasureRequest:
    """Record the request and its message in the caller's (erasing) transaction."""
    assert message.person_id is not None
    request = ErasureRequest(id=message.erasure_id, person_id=message.person_id, client_id=message.client_id,
                             actor=actor[:200], requested_at=utcnow(), published_at=None, counts=counts,
                             message=message)
    await session.execute(erasure_requests.insert().values(
        id=request.id, person_id=request.person_id, client_id=request.client_id, actor=request.actor,
        requested_at=request.requested_at, event_type=message.type_name(), message=message.model_dump(mode="json"),
        published_at=None, counts=counts))
    return request


async def request_of(session: AsyncSession, person_id: uuid.UUID) -> ErasureRequest | None:
    row = (await session.execute(select(erasure_requests).where(erasure_requests.c.person_id == person_id))).first()
    return _request(row) if row else None


async def request_by_id(session: AsyncSession, erasure_id: uuid.UUID) -> ErasureRequest | None:
    row = (await session.execute(select(erasure_requests).where(erasure_requests.c.id == erasure_id))).first()
    return _request(row) if row else None


class ErasureOutbox:
    """Publishes erasure messages: one right after its commit, and every unconfirmed one on each resend."""

    def __init__(self, sessions: Callable[[], AsyncSession], publish: Publish) -> None:
        """``sessions`` opens a session (the database opens at start, after this is built)."""
        self._sessions = sessions
        self._publish = publish

    async def send(self, request: ErasureRequest) -> bool:
        """Publish one request's message and mark it confirmed; False (logged) when the broker did not take
        it: the resend tries again."""
        try:
            await self._publish(request.message)
        except Exception as exc:  # noqa: BLE001 - the request is committed; the resend publishes it later
            log.warning("erasure not announced yet", erasure_id=str(request.id), error=type(exc).__name__)
            return False
        async with self._sessions() as session, session.begin():
            await session.execute(update(erasure_requests).where(erasure_requests.c.id == request.id)
                                  .values(published_at=utcnow()))
        return True

    async def resend(self) -> int:
        """Publish the requests the broker has not confirmed yet (a crash or an outage after the commit)."""
        async with self._sessions() as session:
            rows = (await session.execute(select(erasure_requests).where(erasure_requests.c.published_at.is_(None))
                                          .order_by(erasure_requests.c.requested_at).limit(RESEND_BATCH))).all()
        sent = 0
        for row in rows:
            sent += await self.send(_request(row))
        return sent
