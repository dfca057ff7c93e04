"""SLA clocks that follow business hours and holidays (osTicket#1168: clocks should not run 24x7).

A deadline is "so many working hours after registration": the clock runs only inside the working day, skips
weekends and holidays, and counts working Saturdays the government moves in their place. Which durations
apply depends on the client's SLA tier and the ticket type. Pure: dates in, dates out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

#: Safety stop for a calendar that has no working time at all (every day a holiday).
_MAX_DAYS = 3660


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours ``opens``–``closes`` on ``workdays`` (0 = Monday) in ``zone``, minus ``holidays``,
    plus ``extra_workdays`` (a Saturday worked in place of a bridged holiday)."""

    zone: ZoneInfo
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    workdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise ValueError("the working day must close after it opens")

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() in self.workdays and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.opens, self.zone), datetime.combine(day, self.closes, self.zone))

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The moment ``work`` of working time after ``start`` (aware); returned in UTC."""
        if work < timedelta(0):
            raise ValueError("working time cannot be negative")
        moment = start.astimezone(self.zone)
        day = moment.date()
        remaining = work
        for _ in range(_MAX_DAYS):
            if self.is_workday(day):
                opens, closes = self._window(day)
                begin = max(moment, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= available
            day += timedelta(days=1)
            moment = datetime.combine(day, time(0), self.zone)
        raise ValueError("the calendar has no working time within ten years")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero when ``end`` is not later): response-time reports."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            if self.is_workday(day):
                opens, closes = self._window(day)
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total


@dataclass(frozen=True)
class Targets:
    """Working time allowed until the first response and until resolution."""

    first_response: timedelta
    resolution: timedelta


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per SLA tier and ticket type; ``"*"`` as a type is the tier's default."""

    calendar: BusinessCalendar
    targets: Mapping[str, Mapping[str, Targets]] = field(default_factory=dict)

    def targets_for(self, tier: str, ticket_type: str) -> Targets | None:
        by_type = self.targets.get(tier)
        if by_type is None:
            return None
        return by_type.get(ticket_type) or by_type.get("*")

    def due(self, tier: str, ticket_type: str, registered_at: datetime) -> tuple[datetime, datetime] | None:
        """First-response and resolution deadlines, or None when no target covers this tier and type."""
        targets = self.targets_for(tier, ticket_type)
        if targets is None:
            return None
        return (self.calendar.add(registered_at, targets.first_response),
                self.calendar.add(registered_at, targets.resolution))


def _hours(value: Any) -> timedelta:
    hours = float(value)
    if hours < 0:
        raise ValueError("SLA targets cannot be negative")
    return timedelta(hours=hours)


def _dates(values: Iterable[str]) -> frozenset[date]:
    return frozenset(date.fromisoformat(v) for v in values)


def policy_from_mapping(data: Mapping[str, Any], zone: ZoneInfo) -> SlaPolicy:
    """Read the SLA file's shape (see docs in :func:`load_policy`); ValueError on anything malformed."""
    hours = data.get("business_hours", {})
    calendar = BusinessCalendar(
        zone=ZoneInfo(data["timezone"]) if "timezone" in data else zone,
        opens=time.fromisoformat(hours.get("opens", "09:00")),
        closes=time.fromisoformat(hours.get("closes", "18:00")),
        workdays=frozenset(int(d) for d in hours.get("workdays", range(5))),
        holidays=_dates(data.get("holidays", [])),
        extra_workdays=_dates(data.get("extra_workdays", [])),
    )
    targets = {
        str(tier): {str(kind): Targets(_hours(t["first_response_hours"]), _hours(t["resolution_hours"]))
                    for kind, t in by_type.items()}
        for tier, by_type in data.get("targets", {}).items()
    }
    return SlaPolicy(calendar, targets)


def load_policy(path: Path | None, zone: ZoneInfo) -> SlaPolicy:
    """The SLA policy from a JSON file, or the built-in one.

    The file: ``{"timezone": "Europe/Moscow", "business_hours": {"opens": "09:00", "closes": "18:00",
    "workdays": [0,1,2,3,4]}, "holidays": ["2026-01-01", …], "extra_workdays": [], "targets": {"premium":
    {"complaint": {"first_response_hours": 1, "resolution_hours": 16}, "*": {…}}, "standard": {…}}}``.
    """
    if path is None:
        return policy_from_mapping(DEFAULT_POLICY, zone)
    return policy_from_mapping(json.loads(path.read_text(encoding="utf-8")), zone)


#: Built in: a Moscow office week; premium clients answered within an hour, standard within four.
DEFAULT_POLICY: Mapping[str, Any] = {
    "business_hours": {"opens": "09:00", "closes": "18:00", "workdays": [0, 1, 2, 3, 4]},
    "holidays": [],
    "targets": {
        "premium": {"complaint": {"first_response_hours": 1, "resolution_hours": 18},
                    "*": {"first_response_hours": 1, "resolution_hours": 27}},
        "standard": {"complaint": {"first_response_hours": 4, "resolution_hours": 45},
                     "*": {"first_response_hours": 4, "resolution_hours": 27}},
    },
}
