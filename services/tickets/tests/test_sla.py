"""SLA deadlines over business hours, weekends, holidays and moved working days (pure, no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from priyom_tickets.sla import BusinessCalendar, load_policy, policy_from_mapping

MSK = ZoneInfo("Europe/Moscow")
H = timedelta(hours=1)
# Russia, 2026: New Year holidays 1–8 January, 23 February (a Monday); Saturday 28 February is no workday.
CALENDAR = BusinessCalendar(zone=MSK, holidays=frozenset({date(2026, 1, d) for d in range(1, 9)}
                                                         | {date(2026, 2, 23)}),
                            extra_workdays=frozenset({date(2026, 11, 28)}))


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.mark.parametrize(("start", "work", "due"), [
    (msk(2026, 11, 24, 10, 0), 4 * H, msk(2026, 11, 24, 14, 0)),        # inside one day
    (msk(2026, 11, 24, 16, 0), 4 * H, msk(2026, 11, 25, 11, 0)),        # over the night
    (msk(2026, 11, 24, 20, 0), 1 * H, msk(2026, 11, 25, 10, 0)),        # registered after hours
    (msk(2026, 11, 24, 6, 30), 1 * H, msk(2026, 11, 24, 10, 0)),        # before opening
    (msk(2026, 11, 20, 17, 0), 2 * H, msk(2026, 11, 23, 10, 0)),        # Friday evening to Monday
    (msk(2026, 11, 21, 12, 0), 1 * H, msk(2026, 11, 23, 10, 0)),        # registered on a Saturday
    (msk(2026, 12, 30, 17, 0), 2 * H, msk(2026, 12, 31, 10, 0)),       # no holidays listed for 2026-12-31
    (msk(2026, 11, 27, 17, 0), 2 * H, msk(2026, 11, 28, 10, 0)),        # a moved working Saturday
    (msk(2026, 2, 20, 17, 0), 2 * H, msk(2026, 2, 24, 10, 0)),          # Friday, weekend, 23 Feb holiday
    (msk(2025, 12, 31, 16, 0), 3 * H, msk(2026, 1, 9, 10, 0)),          # into the New Year holidays
    (msk(2026, 11, 24, 18, 0), 0 * H, msk(2026, 11, 25, 9, 0)),         # "now" after hours: next opening
    (msk(2026, 11, 23, 9, 0), 27 * H, msk(2026, 11, 25, 18, 0)),        # exactly three working days
])
def test_deadlines_count_working_time_only(start: datetime, work: timedelta, due: datetime) -> None:
    assert CALENDAR.add(start, work) == due.astimezone(UTC)


def test_start_and_result_are_instants_whatever_the_zone() -> None:
    # 07:00 UTC is 10:00 in Moscow: the same instant, the same deadline.
    assert CALENDAR.add(datetime(2026, 11, 24, 7, 0, tzinfo=UTC), 2 * H) == datetime(2026, 11, 24, 9, 0,
                                                                                       tzinfo=UTC)
    assert CALENDAR.add(msk(2026, 11, 24, 10), 2 * H).tzinfo == UTC


def test_working_time_between_two_moments() -> None:
    assert CALENDAR.between(msk(2026, 11, 24, 10), msk(2026, 11, 24, 12, 30)) == 2.5 * H
    assert CALENDAR.between(msk(2026, 11, 20, 17), msk(2026, 11, 23, 10)) == 2 * H  # over a weekend
    assert CALENDAR.between(msk(2026, 11, 24, 12), msk(2026, 11, 24, 11)) == timedelta(0)
    start = msk(2026, 2, 20, 11, 15)
    for hours in (1, 7, 9, 30, 100):
        assert CALENDAR.between(start, CALENDAR.add(start, hours * H)) == hours * H


def test_a_calendar_without_working_time_is_refused() -> None:
    with pytest.raises(ValueError, match="close after it opens"):
        BusinessCalendar(zone=MSK, opens=CALENDAR.closes, closes=CALENDAR.opens)
    never = BusinessCalendar(zone=MSK, workdays=frozenset())
    with pytest.raises(ValueError, match="no working time"):
        never.add(msk(2026, 11, 24, 10), H)
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add(msk(2026, 11, 24, 10), -H)


def test_policy_per_tier_and_type_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "sla.json"
    path.write_text(json.dumps({
        "timezone": "Asia/Yekaterinburg",
        "business_hours": {"opens": "08:00", "closes": "17:00", "workdays": [0, 1, 2, 3, 4, 5]},
        "holidays": ["2026-11-04"],
        "targets": {"premium": {"complaint": {"first_response_hours": 0.5, "resolution_hours": 9},
                                "*": {"first_response_hours": 1, "resolution_hours": 18}}},
    }))
    policy = load_policy(path, MSK)
    ekb = ZoneInfo("Asia/Yekaterinburg")
    registered = datetime(2026, 11, 3, 16, 45, tzinfo=ekb)  # Tuesday; Wednesday 4 November is a holiday
    first, resolution = policy.due("premium", "complaint", registered)
    assert first == datetime(2026, 11, 5, 8, 15, tzinfo=ekb)
    assert resolution == datetime(2026, 11, 5, 16, 45, tzinfo=ekb)
    saturday = datetime(2026, 11, 7, 9, 0, tzinfo=ekb)  # Saturdays are worked in this office
    assert policy.due("premium", "service_request", saturday)[0] == datetime(2026, 11, 7, 10, 0, tzinfo=ekb)
    assert policy.due("standard", "complaint", registered) is None  # no target: the router's deadline stays

    with pytest.raises(ValueError):
        policy_from_mapping({"targets": {"x": {"*": {"first_response_hours": -1, "resolution_hours": 1}}}}, MSK)
    with pytest.raises(KeyError):
        policy_from_mapping({"targets": {"x": {"*": {"first_response_hours": 1}}}}, MSK)
    default = load_policy(None, MSK)
    assert default.targets_for("premium", "complaint").first_response == H
