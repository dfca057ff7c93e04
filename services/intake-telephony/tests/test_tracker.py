"""The call tracker on real Asterisk transcripts (``shared/corpus/ami``) and on scripted Asterisk 16-22 calls."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from priyom_intake_telephony.channels import Extensions, endpoint
from priyom_intake_telephony.tracker.assembly import CallTracker
from priyom_intake_telephony.tracker.call import Answered, Finished, Progress, Ringing, Started
from priyom_testing.ami_server import load_transcript
from priyom_testing.scripted_pbx import ScriptedPbx

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def replay(events: list[dict[str, str]]) -> tuple[CallTracker, list[Progress]]:
    tracker = CallTracker()
    progress: list[Progress] = []
    for event in events:
        progress += tracker.feed(event, NOW)
    return tracker, progress


def summary(progress: list[Progress]) -> list[tuple[str, str | None]]:
    """What the agents see (``Started`` only starts the card's lookup early)."""
    return [(type(p).__name__, p.agent if not isinstance(p, Finished) else p.call.outcome) for p in progress
            if not isinstance(p, Started)]


@pytest.mark.parametrize(("channel", "expected"), [
    ("PJSIP/101-0000001a", "101"), ("SIP/101-00000003", "101"), ("Local/101@from-queue-00000007;1", "101"),
    ("PJSIP/101", "101"), ("Local/101@from-queue/n", "101"), ("SIP/voipgrid-siproute-docker-00000025",
                                                             "voipgrid-siproute-docker"),
    ("PJSIP/provider-000001", "provider"), ("", None), ("garbage", None),
])
def test_the_extension_of_a_channel(channel: str, expected: str | None) -> None:
    assert endpoint(channel) == expected


def test_trunks_are_not_extensions() -> None:
    extensions = Extensions()
    assert extensions.of_channel("PJSIP/provider-0000001b") is None
    assert extensions.of_channel("PJSIP/101-0000001b") == "101"


# (file, [(kind, agent-or-outcome), …]) from the recorded calls; the agents are the phones' SIP accounts.
CORPUS = [
    ("voipgrid-cacofonisk/queue/queue_simple.json",
     [("Ringing", "150010002"), ("Ringing", "150010003"), ("Answered", "150010002"), ("Finished", "answered")]),
    ("voipgrid-cacofonisk/queue/queue_group.json",
     [("Ringing", "150010003"), ("Ringing", "150010002"), ("Answered", "150010002"), ("Finished", "answered")]),
    ("voipgrid-cacofonisk/simple/ab_a_cancel.json", [("Ringing", "150010002"), ("Finished", "missed")]),
    ("voipgrid-cacofonisk/simple/ab_dnd.json", [("Ringing", "150010002"), ("Finished", "missed")]),
    ("voipgrid-cacofonisk/simple/ab_success_b_hangup.json",
     [("Ringing", "150010002"), ("Answered", "150010002"), ("Finished", "answered")]),
    ("voipgrid-cacofonisk/queue/queue_blind_xfer.json",
     [("Ringing", "150010001"), ("Answered", "150010001"), ("Ringing", "150010002"), ("Answered", "150010002"),
      ("Finished", "answered")]),
    ("voipgrid-cacofonisk/xfer_blind/xfer_blind_abacbc.json",
     [("Ringing", "150010002"), ("Answered", "150010002"), ("Ringing", "150010003"), ("Answered", "150010003"),
      ("Finished", "answered")]),
    # An attended transfer: the consultation call (a second Linkedid) joins the first: one Finished.
    ("voipgrid-cacofonisk/xfer_attended/xfer_abacbc.json",
     [("Ringing", "150010002"), ("Answered", "150010002"), ("Ringing", "150010003"), ("Answered", "150010003"),
      ("Finished", "answered")]),
    ("voipgrid-cacofonisk/xfer_misc/call_forwarding.json",
     [("Ringing", "150010001"), ("Ringing", "150010002"), ("Answered", "150010002"), ("Finished", "answered")]),
    ("sweeney-asterisk-mqtt/answered-internal.raw", [("Ringing", "1986"), ("Answered", "1986"),
                                                     ("Finished", "answered")]),
    ("sweeney-asterisk-mqtt/unanswered-cancel.raw", [("Ringing", "21"), ("Finished", "missed")]),
]


@pytest.mark.parametrize(("name", "expected"), CORPUS, ids=[c[0].rsplit("/", 1)[1] for c in CORPUS])
def test_recorded_calls(corpus_dir: Path, name: str, expected: list[tuple[str, str]]) -> None:
    tracker, progress = replay(load_transcript(corpus_dir / "ami" / name))
    assert summary(progress) == expected
    assert not tracker.calls, "every call of the transcript ended"


def test_an_inbound_queue_call_keeps_the_callers_number(corpus_dir: Path) -> None:
    _, progress = replay(load_transcript(corpus_dir / "ami/voipgrid-cacofonisk/queue/queue_simple.json"))
    finished = progress[-1]
    assert isinstance(finished, Finished)
    call = finished.call
    assert (call.caller, call.outbound, call.internal, call.agents) == ("+31150010001", False, False, ["150010002"])


def test_click_to_dial_is_outbound_and_pops_nothing_up(corpus_dir: Path) -> None:
    _, progress = replay(load_transcript(corpus_dir / "ami/voipgrid-cacofonisk/originate/ctd-account-world.json"))
    assert not [p for p in progress if isinstance(p, Ringing)]
    call = progress[-1].call
    assert (call.originated, call.outbound, call.outcome, call.agent) == (True, True, "answered", "150010001")


def test_an_extension_calling_out_through_the_trunk_is_outbound(corpus_dir: Path) -> None:
    _, progress = replay(load_transcript(corpus_dir / "ami/voipgrid-cacofonisk/simple/ab_success_twoclients.json"))
    finished = {p.call.call_id: p.call for p in progress if isinstance(p, Finished)}
    outbound = finished["195176c06ab8-1529936734.287"]
    assert (outbound.outbound, outbound.agent, outbound.outcome) == (True, "260010001", "answered")
    inbound = finished["195176c06ab8-1529936734.297"]
    assert (inbound.outbound, inbound.agents, inbound.caller) == (False, ["150010001"], "+31260010001")


def test_scripted_queue_call_rings_every_member_once_and_keeps_the_recording() -> None:
    pbx = ScriptedPbx()
    linkedid, events = pbx.queue_call("+79161234567", ["101", "102", "103"], answered_by="102",
                                      caller_name="Иван Петров", recording="/var/spool/asterisk/monitor/q.wav")
    _, progress = replay(events)
    assert summary(progress) == [("Ringing", "101"), ("Ringing", "102"), ("Ringing", "103"), ("Answered", "102"),
                                 ("Finished", "answered")]
    call = progress[-1].call
    assert (call.call_id, call.queue, call.caller_name, call.recording) == (
        linkedid, "support", "Иван Петров", "/var/spool/asterisk/monitor/q.wav")


def test_scripted_missed_and_abandoned_calls() -> None:
    pbx = ScriptedPbx()
    _, missed = replay(pbx.direct_call("+79161234567", "101", answered=False)[1])
    assert summary(missed) == [("Ringing", "101"), ("Finished", "missed")]
    _, abandoned = replay(pbx.queue_call("+79161234567", ["101", "102"], answered_by=None, abandon=True)[1])
    assert summary(abandoned) == [("Ringing", "101"), ("Ringing", "102"), ("Finished", "abandoned")]


def test_a_late_cdr_amends_the_finished_call() -> None:
    pbx = ScriptedPbx()
    _, events = pbx.direct_call("+79161234567", "101", recording=None)
    cdr = events[-1]
    assert cdr["Event"] == "Cdr"
    cdr["RecordingFile"] = "2026/11/25/in-101.wav"
    tracker, progress = replay(events)
    call = progress[-1].call
    assert (call.recording, call.duration_s) == ("2026/11/25/in-101.wav", 42)


def test_a_blind_transfer_stays_one_call() -> None:
    _, progress = replay(ScriptedPbx().transferred_call("+79161234567", "101", "102")[1])
    assert summary(progress) == [("Ringing", "101"), ("Answered", "101"), ("Ringing", "102"), ("Answered", "102"),
                                 ("Finished", "answered")]
    assert progress[-1].call.agents == ["101", "102"]


def test_answered_carries_the_agent() -> None:
    _, progress = replay(ScriptedPbx().direct_call("+79161234567", "205")[1])
    assert [p.agent for p in progress if isinstance(p, Answered)] == ["205"]


def test_reconcile_finishes_calls_whose_channels_are_gone() -> None:
    pbx = ScriptedPbx()
    _, gone = pbx.direct_call("+79161234567", "101", answered=False)
    _, alive = pbx.direct_call("+79161234568", "102")
    tracker = CallTracker()
    for event in gone[:4] + alive[:4]:
        tracker.feed(event, NOW)
    live = {alive[0]["Uniqueid"], alive[1]["Uniqueid"]}
    finished = tracker.reconcile(live, NOW)
    assert [(type(p).__name__, p.call.caller, p.call.outcome) for p in finished] == [
        ("Finished", "+79161234567", "missed")]
    assert list(tracker.calls) == [alive[0]["Linkedid"]]


def test_an_inbound_call_is_started_before_anything_rings_and_an_internal_one_is_not(corpus_dir: Path) -> None:
    _, inbound = replay(ScriptedPbx().queue_call("+79161234567", ["101"], answered_by="101")[1])
    assert isinstance(inbound[0], Started) and inbound[0].call.caller == "+79161234567"
    assert sum(isinstance(p, Started) for p in inbound) == 1
    _, internal = replay(load_transcript(corpus_dir / "ami/sweeney-asterisk-mqtt/answered-internal.raw"))
    assert not [p for p in internal if isinstance(p, Started)]


def test_the_reader_keeps_exactly_the_events_the_tracker_reads() -> None:
    from priyom_intake_telephony.ami import TRACKED_EVENTS
    from priyom_intake_telephony.tracker.assembly import HANDLERS

    assert frozenset(HANDLERS) == TRACKED_EVENTS


def test_a_click_to_call_resumed_after_a_gap_still_knows_whom_it_called(corpus_dir: Path) -> None:
    """Killed three events into a click-to-call, back when the number is being dialled: the saved call knows
    nothing of the dial, ``CoreShowChannels`` does; the call ends as an outbound call to that number."""
    from priyom_intake_telephony.tracker.call_state import call_from_json, call_to_json
    from priyom_testing.ami_server import FakeAmiServer

    events = load_transcript(corpus_dir / "ami/voipgrid-cacofonisk/originate/ctd-account-world.json")
    before, _ = replay(events[:3])
    pbx = FakeAmiServer()
    for event in events[:75]:
        pbx._follow(event)  # what the PBX lists after the gap  # noqa: SLF001
    after = CallTracker()
    for call in before.calls.values():
        after.restore(call_from_json(call_to_json(call)))
    progress = after.adopt(pbx.live_channels, NOW) + after.reconcile(set(pbx.live_channels), NOW)
    for event in events[75:]:
        progress += after.feed(event, NOW)
    [finished] = [p.call for p in progress if isinstance(p, Finished)]
    assert (finished.outbound, finished.internal, finished.called) == (True, False, "+31260010001")
