"""An abandoned queue call keeps its queue when the PBX names it only in ``QueueCallerAbandon`` or
``QueueCallerLeave`` (no ``QueueCallerJoin``, no ``AgentCalled``), in every order the events come in."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from priyom_intake_telephony.tracker.assembly import CallTracker
from priyom_intake_telephony.tracker.call import Call, Finished, Progress
from priyom_testing.ami_server import SNAPSHOT, Event, load_transcript
from priyom_testing.scripted_pbx import ScriptedPbx

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
RECORDED = Path(__file__).parent / "recorded" / "queue-caller-abandon.ami"
#: The events that name the queue besides the caller's own Abandon and Leave.
NAMING_THE_QUEUE = {"QueueCallerJoin", "AgentCalled", "AgentRingNoAnswer"}


def finished_calls(events: list[Event]) -> tuple[CallTracker, list[Call]]:
    tracker = CallTracker()
    progress: list[Progress] = []
    for event in events:
        progress += tracker.feed(event, NOW)
    return tracker, [p.call for p in progress if isinstance(p, Finished)]


def around(abandon: Event, *, late: bool) -> list[Event]:
    """The caller's channel appearing and hanging up around a recorded abandon (before or after the hangup)."""
    channel = {key: abandon[key] for key in (*SNAPSHOT, "Uniqueid") if key in abandon}
    hangup = {"Event": "Hangup", **channel, "Cause": "16", "Cause-txt": "Normal Clearing"}
    events = [{"Event": "Newchannel", **channel}, hangup]
    events.insert(2 if late else 1, abandon)
    return events


@pytest.mark.parametrize("late", [False, True], ids=["before-the-hangup", "after-the-hangup"])
def test_recorded_abandons_name_the_queue_of_the_call_back(late: bool) -> None:
    for abandon in load_transcript(RECORDED):
        tracker, [call] = finished_calls(around(abandon, late=late))
        assert (call.call_id, call.queue, call.outcome) == (abandon["Linkedid"], abandon["Queue"], "abandoned")
        assert not tracker.calls, "a late abandon amends the finished call, it opens no second one"


def _queue_call_naming_the_queue_only_in(kept: str) -> tuple[str, list[Event]]:
    linkedid, events = ScriptedPbx().queue_call("+79161234567", ["101", "102"], answered_by=None, abandon=True)
    dropped = (NAMING_THE_QUEUE | {"QueueCallerAbandon", "QueueCallerLeave"}) - {kept}
    return linkedid, [e for e in events if e["Event"] not in dropped]


@pytest.mark.parametrize("kept", ["QueueCallerAbandon", "QueueCallerLeave"])
def test_the_queue_from_abandon_or_leave_in_every_position(kept: str) -> None:
    linkedid, events = _queue_call_naming_the_queue_only_in(kept)
    [naming] = [e for e in events if e["Event"] == kept]
    others = [e for e in events if e is not naming]
    for position in range(1, len(others) + 1):  # anywhere after the caller's Newchannel, even after the Cdr
        tracker, calls = finished_calls([*others[:position], naming, *others[position:]])
        assert [(c.call_id, c.queue) for c in calls] == [(linkedid, "support")], position
        assert not tracker.calls, position


def test_the_queue_abandoned_in_wins_over_the_queue_joined_first() -> None:
    """Overflow: the caller joined ``first-line``, was moved to ``support`` and gave up there."""
    _, events = ScriptedPbx().queue_call("+79161234567", ["101"], answered_by=None, abandon=True)
    events = [e for e in events if e["Event"] not in NAMING_THE_QUEUE | {"QueueCallerLeave"}]
    trunk = {k: v for k, v in events[0].items() if k != "Event"}
    events.insert(1, {"Event": "QueueCallerJoin", **trunk, "Queue": "first-line", "Position": "1", "Count": "1"})
    _, [call] = finished_calls(events)
    assert (call.queue, call.outcome) == ("support", "abandoned")
