"""Which contact each album part goes out in, decided once and kept, before the contact is published.

Telegram sends an album as one update per part, and a part can come in a later ``getUpdates`` batch (or a
later webhook post) than the others, after the album's contact was published. That contact cannot take it
any more: every consumer drops a second publish of the same key as a repeat. So each part's contact is
recorded the first time the part is seen: the parts of the album's first contact go out under the album's
key, the parts that come later under a key of their own (the album's and the first new part's digest). A
later contact carries the same chat as its thread, so the tickets service adds it to the album's ticket as a
follow-up message. A part Telegram re-sends (its update was not confirmed) finds its recorded key and forms
the same contact again, which consumers drop as the repeat it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_kit.adapters import Inbound

from ..store import album_parts


def part_digest(part: Inbound) -> str:
    """What identifies a part across re-sends: its text and its files' ids."""
    text = "\x1f".join([part.body, *(f.ref for f in part.files)])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class AlbumParts:
    """``await parts.contacts(album, parts)`` -> ``[(contact_key, parts), …]``, recorded before returning."""

    def __init__(self, sessions: Callable[[], async_sessionmaker[AsyncSession]]) -> None:
        self._sessions = sessions

    async def contacts(self, album: str, parts: Sequence[Inbound]) -> list[tuple[str, list[Inbound]]]:
        digests = [part_digest(p) for p in parts]
        async with self._sessions()() as session, session.begin():
            known = await self._recorded(session, album)
            new = [d for d in dict.fromkeys(digests) if d not in known]
            if new:
                key = album if not known else f"{album}:{new[0][:16]}"
                insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
                now = datetime.now(UTC)
                await session.execute(insert(album_parts).on_conflict_do_nothing(), [
                    {"album": album, "part": d, "contact_key": key, "recorded_at": now} for d in new])
                known = await self._recorded(session, album)  # a concurrent flush may have recorded first
        grouped: dict[str, list[Inbound]] = {}
        for part, digest in zip(parts, digests, strict=True):
            grouped.setdefault(known[digest], []).append(part)
        return list(grouped.items())

    @staticmethod
    async def _recorded(session: AsyncSession, album: str) -> dict[str, str]:
        rows = await session.execute(select(album_parts.c.part, album_parts.c.contact_key)
                                     .where(album_parts.c.album == album))
        return {part: key for part, key in rows.all()}
