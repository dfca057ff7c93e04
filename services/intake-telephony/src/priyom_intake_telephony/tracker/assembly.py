"""The call tracker: which call each AMI event belongs to, and the handler of its event family. Pure.

The tracker keeps the calls in progress and the recently finished ones; the handlers (``channel_events``,
``dialling``, ``queues``, ``transfers``) change a call through the few operations below (a channel joins or
leaves, an extension rings or answers, the call ends), so what a call is stays decided in one place.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..channels import Extensions
from . import channel_events, dialling, pickups, queues, transfers
from .call import Answered, Call, Finished, Progress, Ringing
from .event_fields import event_time, header

#: Calls kept after they finished, so a late ``Cdr`` can still add the recording and billed seconds.
FINISHED_KEPT = 2_000
#: Calls followed at once; beyond it the oldest is dropped (a PBX that never sent their hangups).
MAX_CALLS = 20_000

Handler = Callable[["CallTracker", Mapping[str, Any], datetime], list[Progress]]


class CallTracker:
    """Feed it every AMI event in order; it returns what each one changed for the agents."""

    def __init__(self, extensions: Extensions | None = None) -> None:
        self.extensions = extensions or Extensions()
        self.calls: OrderedDict[str, Call] = OrderedDict()
        self.finished: OrderedDict[str, Call] = OrderedDict()
        self._channel_call: dict[str, str] = {}  # Uniqueid -> call_id
        self._finished_by_channel: dict[str, str] = {}
        #: Calls an event touched since the owner last took them (:meth:`take_changed`): what to save.
        self.changed: set[str] = set()

    def feed(self, event: Mapping[str, Any], now: datetime | None = None) -> list[Progress]:
        """Apply one event (a header mapping as AMI sent it); ``now`` stamps times when the event has none."""
        name = header(event, "Event")
        handler = HANDLERS.get((name or "").lower())
        if handler is None:
            return []
        return handler(self, event, event_time(event, now))

    def reconcile(self, live: set[str], now: datetime | None = None) -> list[Progress]:
        """After a reconnect: ``live`` is every channel Asterisk still has (``CoreShowChannels``). Channels
        that hung up while we were away leave their calls; a call with none left is finished, with what was
        seen of it (an answer missed in the gap is missed here too)."""
        at = now or datetime.now(UTC)
        progress: list[Progress] = []
        for call in list(self.calls.values()):
            for uniqueid in call.channels - live:
                self.leave(call, uniqueid)
            if not call.channels:
                progress += self.end(call, at)
        return progress

    def adopt(self, channels: Mapping[str, Mapping[str, Any]], now: datetime | None = None) -> list[Progress]:
        """After a login: channels ``CoreShowChannels`` lists that no followed call has (they appeared while
        the service was down or reconnecting) are taken in as if their ``Newchannel`` had arrived, the call's
        first channel first, so a call that started in the gap is still followed to its hangup."""
        at = now or datetime.now(UTC)
        unknown = [fields for uniqueid, fields in channels.items() if uniqueid not in self._channel_call]
        unknown.sort(key=lambda f: (header(f, "Uniqueid") != header(f, "Linkedid"), header(f, "Uniqueid") or ""))
        progress: list[Progress] = []
        for fields in unknown:
            progress += channel_events.new_channel(self, {**fields, "Event": "Newchannel"}, at)
        for uniqueid, fields in channels.items():
            call = self.calls.get(self._channel_call.get(uniqueid, ""))
            if call is not None:
                channel_events.listed(self, call, fields)
                self.changed.add(call.call_id)
        return progress

    def restore(self, call: Call) -> None:
        """Follow again a call saved before a restart (its channels are checked by :meth:`reconcile`)."""
        self.calls[call.call_id] = call
        for uniqueid in call.channels:
            self._channel_call[uniqueid] = call.call_id

    def forget_calls(self) -> None:
        """Follow no call in progress (before the journal's are restored: another replica may have ended
        some of what this one followed before)."""
        self.calls.clear()
        self._channel_call.clear()
        self.changed.clear()

    def take_changed(self) -> set[str]:
        """The calls touched since the last call (and forget them): the caller saves what they are now."""
        changed, self.changed = self.changed, set()
        return changed

    # -- what the handlers change a call with ---------------------------------------------------------------

    def call_of(self, event: Mapping[str, Any], at: datetime, *, create: bool = False) -> Call | None:
        """The call the event's channel belongs to (by its ``Linkedid`` for a channel not seen yet); a new one
        when ``create``. The event's channel joins the call, unless the event is its hangup.

        A channel followed in one call whose event carries the ``Linkedid`` of an older call followed too was
        linked into that call by Asterisk (a bridge hands on the oldest ``Linkedid``: a pickup, a transfer):
        it moves there, and its old call, left without channels, merges into it (:meth:`join`)."""
        uniqueid = header(event, "Uniqueid", "UniqueID")
        held = self._channel_call.get(uniqueid or "")
        linkedid = header(event, "Linkedid")
        call_id = held or linkedid
        if held and linkedid and linkedid != held and linkedid in self.calls and _older(linkedid, held):
            call_id = linkedid
        if call_id is None:
            return None
        call = self.calls.get(call_id)
        if call is None and create:
            call = self.calls[call_id] = Call(call_id=call_id, started_at=at)
            if len(self.calls) > MAX_CALLS:
                self._forget(next(iter(self.calls)))
        if call is not None:
            self.changed.add(call.call_id)
            if uniqueid and (header(event, "Event") != "Hangup" or held not in (None, call.call_id)):
                self.join(call, uniqueid)
        return call

    def call_by_channel(self, uniqueid: str | None, linkedid: str | None) -> Call | None:
        """The call followed that has the channel (else the one its ``Linkedid`` names), nothing joined."""
        return self.calls.get(self._channel_call.get(uniqueid or "") or linkedid or "")

    def join(self, call: Call, uniqueid: str) -> None:
        """The channel is part of ``call`` from now on. A channel another call had moves (a picking-up phone's
        own call, a dialled phone that already had one): a call left without channels is no call of its own
        any more and merges into ``call`` (:meth:`merge`), so nothing stray is left to end as "missed"."""
        self.changed.add(call.call_id)
        previous = self._channel_call.get(uniqueid)
        call.channels.add(uniqueid)
        self._channel_call[uniqueid] = call.call_id
        other = self.calls.get(previous or "")
        if other is None or other is call:
            return
        self.changed.add(other.call_id)
        other.channels.discard(uniqueid)
        for members in other.bridges.values():
            members.discard(uniqueid)
        if not other.channels:
            self.merge(call, other)

    def merge(self, call: Call, other: Call) -> None:
        """``other`` becomes part of ``call`` (an attended transfer's consultation call, a pickup's own call):
        its channels, bridges, agents and recording go over, and it is dropped without a ``Finished``."""
        for uniqueid in other.channels:
            call.channels.add(uniqueid)
            self._channel_call[uniqueid] = call.call_id
        for bridge, members in other.bridges.items():
            call.bridges.setdefault(bridge, set()).update(members)
        for agent in other.agents:
            if agent not in call.agents[-1:]:
                call.agents.append(agent)
        call.recording = call.recording or other.recording
        self.calls.pop(other.call_id, None)
        self.changed.update({call.call_id, other.call_id})

    def leave(self, call: Call, uniqueid: str) -> None:
        call.channels.discard(uniqueid)
        self._channel_call.pop(uniqueid, None)

    def _forget(self, call_id: str) -> None:
        self.changed.add(call_id)
        call = self.calls.pop(call_id)
        for uniqueid in call.channels:
            self._channel_call.pop(uniqueid, None)

    def ring(self, call: Call, agent: str | None, queue: str | None = None) -> list[Progress]:
        if queue:
            call.queue = queue
        if agent is None or agent in call.ringing or call.outbound or call.originated:
            return []
        if call.agents and call.agents[-1] == agent:
            return []  # the agent who has the call is not ringing for it
        call.ringing.add(agent)
        call.rings[agent] = call.rings.get(agent, 0) + 1
        return [Ringing(call, agent, call.rings[agent])]

    def answer(self, call: Call, agent: str | None, at: datetime) -> list[Progress]:
        if agent is None:
            return []
        call.ringing.clear()  # the others' phones stop: Asterisk cancels them
        if call.agents and call.agents[-1] == agent:
            return []
        if call.answered_at is None:
            call.answered_at = at
        call.agents.append(agent)
        return [Answered(call, agent)]

    def end(self, call: Call, at: datetime) -> list[Progress]:
        self.changed.add(call.call_id)
        call.ended_at = at
        call.ringing.clear()
        del self.calls[call.call_id]
        self.finished[call.call_id] = call
        if call.origin:
            self._finished_by_channel[call.origin] = call.call_id
        while len(self.finished) > FINISHED_KEPT:
            _, old = self.finished.popitem(last=False)
            self._finished_by_channel.pop(old.origin or "", None)
        return [Finished(call)]

    def call_to_amend(self, linkedid: str | None, uniqueid: str | None) -> Call | None:
        """The call a late event is about (a ``Cdr`` comes after the hangup): finished, or still going."""
        call_id = linkedid or self._finished_by_channel.get(uniqueid or "")
        return self.finished.get(call_id or "") or self.calls.get(call_id or "")


#: Every AMI event the tracker reads (lower-case), and its handler.
HANDLERS: dict[str, Handler] = {
    "newchannel": channel_events.new_channel,
    "newcallerid": channel_events.new_caller_id,
    "dialbegin": dialling.dial_begin,
    "dialend": dialling.dial_end,
    "agentcalled": queues.agent_called,
    "agentconnect": queues.agent_connect,
    "agentringnoanswer": queues.agent_ring_no_answer,
    "queuecallerjoin": queues.queue_caller_join,
    "queuecallerabandon": queues.queue_caller_abandon,
    "queuecallerleave": queues.queue_caller_leave,
    "bridgeenter": transfers.bridge_enter,
    "bridgeleave": transfers.bridge_leave,
    "attendedtransfer": transfers.attended_transfer,
    "pickup": pickups.pickup,
    "varset": channel_events.var_set,
    "hangup": channel_events.hangup,
    "cdr": channel_events.cdr,
}


def _older(first: str, second: str) -> bool:
    """Whether the id ``first`` was made before ``second``. Asterisk ids are ``[system-]<epoch>.<sequence>``;
    ids of another shape are taken as older (the event's word is then trusted)."""
    a, b = _id_age(first), _id_age(second)
    return a is None or b is None or a < b


def _id_age(value: str) -> tuple[int, int] | None:
    seconds, _, sequence = value.rsplit("-", 1)[-1].partition(".")
    return (int(seconds), int(sequence or 0)) if seconds.isdigit() and (sequence or "0").isdigit() else None
