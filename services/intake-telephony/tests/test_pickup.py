"""Call pickup: the picking-up phone's own call merges into the picked one, whatever order Asterisk reports
the masquerade in, so no stray call is left to be ended as "missed" after a reconnect."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from priyom_intake_telephony.tracker.assembly import CallTracker
from priyom_intake_telephony.tracker.call import Finished, Progress, Started
from priyom_testing.ami_server import load_transcript
from priyom_testing.scripted_pbx import ScriptedPbx

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def summary(progress: list[Progress]) -> list[tuple[str, str | None]]:
    return [(type(p).__name__, p.call.outcome if isinstance(p, Finished) else p.agent) for p in progress
            if not isinstance(p, Started)]


def test_a_recorded_star_code_pickup_leaves_no_call_of_the_picker(corpus_dir: Path) -> None:
    """VoIPGRID's Asterisk: 150010003 dials ``*8`` (a call of its own, Linkedid ``…58.424``) and takes the
    call ringing on 150010002; its channel is dialled into the picked call and bridged with the caller."""
    events = load_transcript(corpus_dir / "ami/voipgrid-cacofonisk/xfer_misc/star_pickup.json")
    tracker = CallTracker()
    progress: list[Progress] = []
    for event in events:
        progress += tracker.feed(event, NOW)
    assert summary(progress) == [("Ringing", "150010002"), ("Ringing", "150010003"), ("Answered", "150010003"),
                                 ("Finished", "answered")]
    assert [p.call.call_id for p in progress if isinstance(p, Finished)] == ["59b750c14f20-1538125952.414"]
    assert not tracker.calls, "the picker's own call merged into the picked one"
    assert tracker.reconcile(set(), NOW) == []


ORDERS = [
    ("pickup", "hangup", "dialend", "bridge"),  # the Pickup event first
    ("hangup", "dialend", "bridge", "pickup"),  # the Pickup event last
    ("bridge", "pickup", "hangup", "dialend"),  # bridged (the caller's Linkedid handed on) before the Dial ends
    ("dialend", "bridge", "hangup"),  # no Pickup event (an eventfilter dropped it)
    ("bridge", "dialend", "hangup"),
]


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
def test_a_pickup_in_every_order_asterisk_reports_it(order: tuple[str, ...]) -> None:
    linkedid, events = ScriptedPbx().picked_up_call("+79161234567", "101", "102", order=order)
    tracker = CallTracker()
    progress: list[Progress] = []
    for event in events:
        progress += tracker.feed(event, NOW)
    assert summary(progress) == [("Ringing", "101"), ("Answered", "102"), ("Finished", "answered")]
    finished = progress[-1].call
    assert (finished.call_id, finished.agents, finished.caller) == (linkedid, ["102"], "+79161234567")
    assert not tracker.calls and list(tracker.finished) == [linkedid]


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
def test_a_reconnect_after_a_pickup_ends_no_stray_missed_call(order: tuple[str, ...]) -> None:
    """The AMI connection drops while picker and caller talk: ``CoreShowChannels`` lists the caller's channel
    and the picker's; nothing is finished, and the one call followed ends answered at its hangup."""
    linkedid, events = ScriptedPbx().picked_up_call("+79161234567", "101", "102", order=order)
    talking = len(events) - 4  # before the bridge is left and both hang up
    tracker = CallTracker()
    progress: list[Progress] = []
    for event in events[:talking]:
        progress += tracker.feed(event, NOW)
    assert list(tracker.calls) == [linkedid]
    live = {events[0]["Uniqueid"], events[4]["Uniqueid"]}  # the trunk and the picker's channel
    assert tracker.reconcile(live, NOW) == []
    for event in events[talking:]:
        progress += tracker.feed(event, NOW)
    assert [(p.call.call_id, p.call.outcome) for p in progress if isinstance(p, Finished)] == [
        (linkedid, "answered")]
