"""Human ticket numbers: ``2026-000123``, the registration year (in the service's time zone) and the count.

The year is taken where the team works, not in UTC: a ticket registered at 00:30 on 1 January in Moscow
belongs to the new year even though it is still 31 December in UTC. Pure.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

NUMBER_RE = re.compile(r"^([0-9]{4})-([0-9]{6,9})$")


def format_number(year: int, count: int) -> str:
    """``format_number(2026, 123) == "2026-000123"``; past 999999 the count simply grows a digit."""
    if count < 1:
        raise ValueError("ticket counts start at 1")
    return f"{year:04d}-{count:06d}"


def parse_number(number: str) -> tuple[int, int]:
    """The year and the count of a number, ValueError when it is not one."""
    found = NUMBER_RE.match(number)
    if found is None:
        raise ValueError(f"not a ticket number: {number!r}")
    return int(found[1]), int(found[2])


def registration_year(moment: datetime, zone: ZoneInfo) -> int:
    """The year a ticket registered at ``moment`` (aware) is numbered in."""
    return moment.astimezone(zone).year
