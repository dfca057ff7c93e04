"""A call's channels appearing and hanging up, its caller id, its recording and its late CDR. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..channels import is_local
from .call import Call, Progress, Started
from .event_fields import header

if TYPE_CHECKING:
    from .assembly import CallTracker


def new_channel(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = tracker.call_of(event, at, create=True)
    if call is None:
        return []
    uniqueid = header(event, "Uniqueid")
    if call.origin is None and (uniqueid == call.call_id or len(call.channels) == 1):
        call.origin = uniqueid
        call.origin_channel = header(event, "Channel")
        call.caller = header(event, "CallerIDNum")
        call.caller_name = header(event, "CallerIDName")
        call.called = header(event, "Exten")
        if call.called == "s":
            call.called = None
        # An extension calling: internal until it dials a trunk (then outbound, see DialBegin).
        call.internal = tracker.extensions.of_channel(call.origin_channel) is not None
        if not call.internal and call.caller:
            return [Started(call)]
    return []


def listed(tracker: CallTracker, call: Call, fields: Mapping[str, Any]) -> None:
    """What ``CoreShowChannels`` says of a channel of a call followed, after a gap: the events that told it
    (the caller id the dialplan set, the Originate's dial out) may have been in the gap.

    A call whose first channel is a ``Local/`` one was started by an Originate (click-to-call): a channel of
    it that dials a number outside the PBX (not an extension's device) is the party called."""
    uniqueid = header(fields, "Uniqueid")
    number = header(fields, "CallerIDNum")
    if uniqueid == call.origin and call.caller is None and number not in (None, "<unknown>"):
        call.caller = number
    if (uniqueid == call.origin or _OUTSIDE_NUMBER.match(call.called or "") or not is_local(call.origin_channel)
            or tracker.extensions.of_channel(header(fields, "Channel")) is not None):
        return
    # The number the leg dials (a Local hop), or the party on it (the trunk's leg to the customer).
    outside = next((n for n in (header(fields, "Exten"), header(fields, "CallerIDNum"))
                    if n and _OUTSIDE_NUMBER.match(n)), None)
    if outside is not None:
        call.originated = call.outbound = True
        call.internal = False
        call.called = outside


#: A number outside the PBX as a dialplan extension holds it (extensions are shorter).
_OUTSIDE_NUMBER = re.compile(r"^\+?[0-9]{7,20}$")


def new_caller_id(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = tracker.call_of(event, at)
    if call is not None and header(event, "Uniqueid") == call.origin:
        call.caller = header(event, "CallerIDNum") or call.caller
        call.caller_name = header(event, "CallerIDName") or call.caller_name
    return []


def var_set(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    if (header(event, "Variable") or "").upper() != "MIXMONITOR_FILENAME":
        return []
    call = tracker.call_of(event, at)
    if call is not None:
        call.recording = header(event, "Value") or call.recording
    return []


def hangup(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    uniqueid = header(event, "Uniqueid")
    call = tracker.call_of(event, at)
    if call is None or uniqueid is None:
        return []
    if uniqueid not in call.channels:
        listed(tracker, call, event)  # a leg that came and went in a gap: its snapshot still says whom it had
    tracker.leave(call, uniqueid)
    for members in call.bridges.values():
        members.discard(uniqueid)
    if call.channels:
        return []
    return tracker.end(call, at)


def cdr(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    """A CDR comes after the hangup: amend the finished call (recording, billed seconds)."""
    call = tracker.call_to_amend(header(event, "Linkedid"), header(event, "UniqueID", "Uniqueid"))
    if call is None:
        return []
    recording = header(event, "RecordingFile", "Recordingfile", "recordingfile")
    call.recording = call.recording or recording
    billed = header(event, "BillableSeconds")
    if billed is not None and billed.isdigit() and call.answered:
        call.billed_s = max(call.billed_s or 0, int(billed))
    return []
