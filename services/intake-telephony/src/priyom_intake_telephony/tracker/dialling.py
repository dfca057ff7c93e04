"""``DialBegin`` and ``DialEnd``: a phone rung and answered directly, a trunk dialled out, an Originate
(click-to-call) ringing its agent first. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..channels import is_local
from .call import Call, Progress
from .event_fields import header

if TYPE_CHECKING:
    from .assembly import CallTracker


def dial_begin(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = _dial_call(tracker, event, at)
    if call is None:
        return []
    dest = header(event, "DestChannel")
    agent = tracker.extensions.of_channel(dest)
    if header(event, "Channel") is None:
        # An Originate: Asterisk first rings the agent who asked for the call; no pop-up for it.
        call.originated = True
        call.outbound = True
        call.internal = False
        call.originator = call.originator or agent
        return []
    if is_local(dest):
        return []  # a dialplan hop: followed to the device its other half dials
    if call.originated and agent is not None:
        call.originator = call.originator or agent  # the agent's own phone, ringing for click-to-call
        return []
    if agent is None:
        # A trunk: this leg goes out of the PBX.
        if tracker.extensions.of_channel(call.origin_channel) is not None or call.originated:
            call.outbound = True
            call.internal = False
            call.originator = call.originator or tracker.extensions.of_channel(call.origin_channel)
            call.called = header(event, "DestExten", "DestCallerIDNum") or call.called
        return []
    return tracker.ring(call, agent)


def dial_end(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = _dial_call(tracker, event, at)
    if call is None:
        return []
    dest = header(event, "DestChannel")
    agent = tracker.extensions.of_channel(dest)
    status = (header(event, "DialStatus") or "").upper()
    if header(event, "Channel") is None:
        return []  # the originating agent picked up their own phone: the call is not answered yet
    if status != "ANSWER":
        if agent is not None:
            call.ringing.discard(agent)
        return []
    if is_local(dest):
        return []
    if agent is None:
        return tracker.answer(call, call.originator, at) if call.outbound else []
    return tracker.answer(call, agent, at) if not call.outbound else []


def _dial_call(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> Call | None:
    dest_uniqueid = header(event, "DestUniqueid")
    if header(event, "Channel") is None:  # an Originate's first leg has only the Dest* fields
        event = {"Event": header(event, "Event"), "Uniqueid": dest_uniqueid,
                 "Linkedid": header(event, "DestLinkedid")}
    call = tracker.call_of(event, at, create=True)
    if call is not None and dest_uniqueid:
        tracker.join(call, dest_uniqueid)
    return call
