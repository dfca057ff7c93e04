"""Queues: a member rung (``AgentCalled``), connected, not answering; a caller joining and abandoning. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .call import Progress
from .event_fields import header

if TYPE_CHECKING:
    from .assembly import CallTracker


def agent_called(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = tracker.call_of(event, at, create=True)
    if call is None:
        return []
    agent = tracker.extensions.of_channel(header(event, "Interface")) or \
        tracker.extensions.of_channel(header(event, "DestChannel"))
    return tracker.ring(call, agent, header(event, "Queue"))


def agent_connect(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = tracker.call_of(event, at)
    if call is None:
        return []
    agent = tracker.extensions.of_channel(header(event, "Interface")) or \
        tracker.extensions.of_channel(header(event, "DestChannel"))
    return tracker.answer(call, agent, at)


def agent_ring_no_answer(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = tracker.call_of(event, at)
    agent = tracker.extensions.of_channel(header(event, "Interface"))
    if call is not None and agent is not None:
        call.ringing.discard(agent)
    return []


def queue_caller_join(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = tracker.call_of(event, at, create=True)
    if call is not None:
        call.queue = header(event, "Queue") or call.queue
    return []


def queue_caller_abandon(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    call = tracker.call_of(event, at)
    if call is not None and not call.answered:
        call.abandoned = True
    return []
