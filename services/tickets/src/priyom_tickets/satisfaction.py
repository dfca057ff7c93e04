"""Customer satisfaction: a 1–5 rating and a comment per closed ticket, from whatever channel it comes.

The closing notice asks for a number from 1 to 5. A customer may answer it on their channel ("5", "4 из 5,
спасибо", "Оценка: 3 — долго"), through the web form's contact link, or tell an agent on the phone; all land
here. The first rating counts; a second one changes nothing (a redelivered message must not overwrite it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from . import store
from .store import ticket_ratings

_RATING = re.compile(r"^\s*(?:оценка\s*[:\-—]?\s*)?([1-5])(?:\s*(?:из|/)\s*5)?(?![0-9])[\s.,!:;\-—]*(.*)$",
                     re.IGNORECASE | re.DOTALL)


def parse_rating(text: str) -> tuple[int, str | None] | None:
    """``"4 из 5, спасибо"`` → ``(4, "спасибо")``; None when the message is not an answer to the survey."""
    found = _RATING.match(text[:2000])
    if found is None:
        return None
    comment = found[2].strip() or None
    return int(found[1]), comment


async def rate(session: AsyncSession, ticket: Mapping[str, Any], rating: int, comment: str | None, *,
               channel: str, actor: str, now: datetime) -> bool:
    """Record the ticket's rating; False when it already has one (the first answer stands)."""
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    if await rating_of(session, ticket["seq"]) is not None:
        return False
    await session.execute(ticket_ratings.insert().values(ticket_seq=ticket["seq"], rating=rating, comment=comment,
                                                         channel=channel, rated_at=now))
    await store.add_history(session, ticket["seq"], at=now, actor=actor, action="rated",
                            details={"rating": rating, "channel": channel} | ({"comment": comment} if comment else {}))
    return True


async def rating_of(session: AsyncSession, seq: int) -> RowMapping | None:
    result = await session.execute(select(ticket_ratings).where(ticket_ratings.c.ticket_seq == seq))
    return result.mappings().first()
