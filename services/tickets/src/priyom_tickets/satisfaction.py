"""Customer satisfaction: a 1–5 rating and a comment per closed ticket, from whatever channel it comes.

The closing notice asks for a number from 1 to 5. A customer may answer it on their channel ("5", "4 из 5,
спасибо", "Оценка: 3 — долго"), through the web form's contact link, or tell an agent on the phone; all land
here. The first rating counts; a second one changes nothing (a redelivered message must not overwrite it):
:func:`priyom_tickets.changes.rate` records it. Pure.
"""

from __future__ import annotations

import re

_RATING = re.compile(r"^\s*(?:оценка\s*[:\-—]?\s*)?([1-5])(?:\s*(?:из|/)\s*5)?(?![0-9])[\s.,!:;\-—]*(.*)$",
                     re.IGNORECASE | re.DOTALL)


def parse_rating(text: str) -> tuple[int, str | None] | None:
    """``"4 из 5, спасибо"`` → ``(4, "спасибо")``; None when the message is not an answer to the survey."""
    found = _RATING.match(text[:2000])
    if found is None:
        return None
    comment = found[2].strip() or None
    return int(found[1]), comment
