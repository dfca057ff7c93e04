"""Queues: a member rung (``AgentCalled``), connected, not answering; a caller joining and abandoning. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .call import Call, Progress
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
    call = _queued_call(tracker, event, at)
    if call is not None:
        call.queue = header(event, "Queue") or call.queue
    return []


def queue_caller_abandon(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    """The caller hung up while waiting. The queue is taken from here too: some PBXes (a FreePBX with an
    ``eventfilter``, a login whose ``Events:`` mask missed the join) name it only in this event, and the
    call-back must say where the caller waited. The queue given up in is the one that counts (an overflow
    from one queue to another ends in the last)."""
    call = _queued_call(tracker, event, at)
    if call is not None:
        call.queue = header(event, "Queue") or call.queue
        if not call.answered:
            call.abandoned = True
    return []


def queue_caller_leave(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    """The caller left the queue (answered, abandoned, timed out): its queue, if no other event named one."""
    call = _queued_call(tracker, event, at)
    if call is not None:
        call.queue = call.queue or header(event, "Queue")
    return []


def _queued_call(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> Call | None:
    """The call a queue event is about. Asterisk may send ``QueueCallerAbandon``/``Leave`` after the caller's
    ``Hangup`` (the queue thread and the channel's run apart): then it amends the finished call (its contact
    waits ``cdr_wait_s`` for such late news) rather than opening a second call under the same ``Linkedid``."""
    call = tracker.call_of(event, at)
    if call is None:
        call = tracker.call_to_amend(header(event, "Linkedid"), header(event, "Uniqueid"))
    return call or tracker.call_of(event, at, create=True)
