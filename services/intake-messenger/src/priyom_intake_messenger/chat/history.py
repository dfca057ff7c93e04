"""The chat's memory: visitors (by the hash of their token) and their conversations, in the service's database.

A visitor's token is a bearer secret the widget keeps in ``localStorage``; only its SHA-256 is stored, so a
copy of the database opens no conversation. Each visit rotates it: the widget gets a new token in ``welcome``
and the one it came with stays valid until the next rotation, so a page closed before it saved the new
token loses nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..store import chat_messages, chat_visitors


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Line:
    """One message of a conversation: the visitor's (``in``) or one that reached them (``out``)."""

    direction: str
    message_id: str
    body: str
    created_at: datetime
    files: list[str] = field(default_factory=list)
    ticket_number: str | None = None
    survey: bool = False
    #: The blob keys of an answer's files, by the index of ``files`` (the visitor's own files are not kept).
    blobs: list[str] = field(default_factory=list)

    def as_frame(self) -> dict[str, Any]:
        """The line as the widget shows it."""
        return {
            "id": self.message_id,
            "from": "visitor" if self.direction == "in" else "agent",
            "text": self.body,
            "files": self.files,
            "ticket": self.ticket_number,
            "survey": self.survey,
            "at": self.created_at.isoformat(),
        }


class ChatHistory:
    """``sessions`` is called for each use, so the service may open its database after building this."""

    def __init__(self, sessions: Callable[[], async_sessionmaker[AsyncSession]]) -> None:
        self._sessions = sessions

    async def open_visit(self, site: str, token: str | None) -> tuple[str, str]:
        """The visitor the token names on ``site`` (a new one for no token or an unknown one) and their new
        token: ``(visitor_id, token)``."""
        fresh = new_token()
        now = datetime.now(UTC)
        async with self._sessions()() as session:
            row, presented = None, token_hash(token) if token else None
            if presented:
                row = (
                    await session.execute(
                        select(chat_visitors.c.visitor_id).where(
                            chat_visitors.c.site == site,
                            or_(
                                chat_visitors.c.token_hash == presented,
                                chat_visitors.c.previous_hash == presented,
                            ),
                        )
                    )
                ).first()
            if row is None:
                visitor = uuid.uuid4().hex
                await session.execute(
                    chat_visitors.insert().values(
                        visitor_id=visitor,
                        site=site,
                        token_hash=token_hash(fresh),
                        previous_hash=None,
                        created_at=now,
                        seen_at=now,
                    )
                )
            else:
                visitor = row.visitor_id
                # The token the widget came with stays valid until it comes back with the new one.
                await session.execute(
                    update(chat_visitors)
                    .where(chat_visitors.c.visitor_id == visitor)
                    .values(token_hash=token_hash(fresh), previous_hash=presented, seen_at=now)
                )
            await session.commit()
        return visitor, fresh

    async def known(self, visitor: str) -> bool:
        async with self._sessions()() as session:
            found = await session.execute(
                select(chat_visitors.c.visitor_id).where(chat_visitors.c.visitor_id == visitor)
            )
            return found.first() is not None

    async def has(self, visitor: str, direction: str, message_id: str) -> bool:
        async with self._sessions()() as session:
            found = await session.execute(
                select(chat_messages.c.message_id).where(
                    chat_messages.c.visitor_id == visitor,
                    chat_messages.c.direction == direction,
                    chat_messages.c.message_id == message_id,
                )
            )
            return found.first() is not None

    async def add(self, visitor: str, line: Line) -> None:
        """Keep a line; one already kept under its id stays as it was (a resend, a redelivered reply)."""
        async with self._sessions()() as session:
            dialect = session.bind.dialect.name if session.bind else "sqlite"
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            await session.execute(
                insert(chat_messages).values(visitor_id=visitor, **asdict(line)).on_conflict_do_nothing()
            )
            await session.execute(
                update(chat_visitors)
                .where(chat_visitors.c.visitor_id == visitor)
                .values(seen_at=datetime.now(UTC))
            )
            await session.commit()

    async def latest(self, visitor: str, limit: int) -> list[Line]:
        """The visitor's latest ``limit`` lines, oldest first."""
        async with self._sessions()() as session:
            rows = (
                (
                    await session.execute(
                        select(chat_messages)
                        .where(chat_messages.c.visitor_id == visitor)
                        .order_by(chat_messages.c.created_at.desc())
                        .limit(limit)
                    )
                )
                .mappings()
                .all()
            )
        return [Line(**{k: v for k, v in row.items() if k != "visitor_id"}) for row in reversed(rows)]

    async def answer_file(self, reply_id: str, index: int) -> tuple[str, str] | None:
        """The name and blob key of file ``index`` of the answer ``reply_id``, while its conversation is kept."""
        async with self._sessions()() as session:
            row = (
                await session.execute(
                    select(chat_messages.c.files, chat_messages.c.blobs).where(
                        chat_messages.c.direction == "out", chat_messages.c.message_id == reply_id
                    )
                )
            ).first()
        if row is None or not 0 <= index < min(len(row.files), len(row.blobs)):
            return None
        return row.files[index], row.blobs[index]

    async def erase_tickets(self, numbers: Sequence[str]) -> int:
        """An erasure request: the whole conversation of every visitor answered on these tickets goes (the
        visitor's own lines name no ticket, so the conversation is found by the replies). How many lines went."""
        gone = 0
        async with self._sessions()() as session:
            for start in range(0, len(numbers), 100):
                visitors = select(chat_messages.c.visitor_id).where(
                    chat_messages.c.ticket_number.in_(list(numbers[start : start + 100]))
                )
                result = await session.execute(
                    delete(chat_messages).where(chat_messages.c.visitor_id.in_(visitors))
                )
                gone += int(result.rowcount or 0)
            await session.commit()
        return gone
