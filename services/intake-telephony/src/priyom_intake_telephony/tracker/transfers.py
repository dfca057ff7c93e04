"""Bridges and transfers: a phone that picked the call up in a bridge, and an attended transfer joining the
consultation call to the original one. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .call import Progress
from .event_fields import header

if TYPE_CHECKING:
    from .assembly import CallTracker


def bridge_enter(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = tracker.call_of(event, at)
    bridge = header(event, "BridgeUniqueid")
    uniqueid = header(event, "Uniqueid")
    if call is None or bridge is None or uniqueid is None:
        return []
    members = call.bridges.setdefault(bridge, set())
    members.add(uniqueid)
    if call.answered or call.outbound or len(members) < 2:
        return []
    # A phone in a bridge with another leg of the call, never dialled through DialEnd (a pickup).
    agent = tracker.extensions.of_channel(header(event, "Channel"))
    if agent is not None and uniqueid != call.origin:
        return tracker.answer(call, agent, at)
    return []


def bridge_leave(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = tracker.call_of(event, at)
    bridge = header(event, "BridgeUniqueid")
    if call is not None and bridge in call.bridges:
        call.bridges[bridge].discard(header(event, "Uniqueid") or "")
    return []


def attended_transfer(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    """The consultation call joins the original: one call, one contact."""
    if (header(event, "Result") or "Success").lower() != "success":
        return []
    original = tracker.calls.get(header(event, "OrigTransfererLinkedid") or "")
    consult = tracker.calls.get(header(event, "SecondTransfererLinkedid") or "")
    if original is None or consult is None or original is consult:
        return []
    tracker.merge(original, consult)
    return []
