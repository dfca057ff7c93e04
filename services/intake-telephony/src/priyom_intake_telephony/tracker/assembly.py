"""Call assembly: AMI events in, call progress out. Pure: no socket, no bus, no clock of its own.

A call is everything Asterisk (12 to 22) reports under one ``Linkedid``: the caller's channel, the
``Local/`` legs of queues and ring groups, every phone that rings, the transfer targets. Asterisk hands the
``Linkedid`` on through bridges, so a blind transfer stays one call by itself; an attended transfer joins
the consultation call to the original one (``AttendedTransfer``), and the tracker merges them.

What comes out (:class:`Started`, :class:`Ringing`, :class:`Answered`, :class:`Finished`):

* ``Started`` when an inbound call reaches the PBX, so the caller's card is fetched while the dialplan runs;
* ``Ringing`` once per extension that starts ringing (a queue rings several, a retry rings one again:
  ``attempt`` counts), from ``AgentCalled`` or from a ``DialBegin`` to a device of an extension;
* ``Answered`` when an extension answers (``AgentConnect``, ``DialEnd`` with ``ANSWER``, or a bridge an
  extension's phone entered with the caller), again for each transfer target that answers;
* ``Finished`` when the call's last channel hung up, with the times, the agents, the queue, the outcome
  and the recording (``MIXMONITOR_FILENAME``; a ``Cdr`` arriving later still amends the finished call).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..channels import Extensions, endpoint, is_local

#: Calls kept after they finished, so a late ``Cdr`` can still add the recording and billed seconds.
FINISHED_KEPT = 2_000
#: Calls followed at once; beyond it the oldest is dropped (a PBX that never sent their hangups).
MAX_CALLS = 20_000
_UNKNOWN = {"", "<unknown>", "unknown", "anonymous"}


def _value(event: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = event.get(key)
        if isinstance(value, list):  # a repeated header: the last one is the current value
            value = value[-1] if value else None
        if value is not None and str(value).strip().lower() not in _UNKNOWN:
            return str(value).strip()
    return None


@dataclass
class Call:
    """One call as far as it got."""

    call_id: str
    started_at: datetime
    origin: str | None = None  # Uniqueid of the channel that started the call
    origin_channel: str | None = None
    caller: str | None = None
    caller_name: str | None = None
    called: str | None = None
    outbound: bool = False  # an extension called out through a trunk (or an Originate did)
    internal: bool = False  # an extension called an extension
    originated: bool = False  # started by an AMI Originate (click-to-call)
    originator: str | None = None  # the extension an Originate rang first
    queue: str | None = None
    abandoned: bool = False
    ringing: set[str] = field(default_factory=set)
    rings: dict[str, int] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    recording: str | None = None
    billed_s: int | None = None
    channels: set[str] = field(default_factory=set)
    bridges: dict[str, set[str]] = field(default_factory=dict)

    @property
    def agent(self) -> str | None:
        """The extension that had the call last (the transfer target, after a transfer)."""
        return self.agents[-1] if self.agents else self.originator

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def outcome(self) -> str:
        if self.answered:
            return "answered"
        return "abandoned" if self.abandoned else "missed"

    @property
    def duration_s(self) -> int:
        """Talk time from answer to hangup (the CDR's billed seconds when Asterisk sent one)."""
        if self.billed_s is not None:
            return self.billed_s
        if self.answered_at is None or self.ended_at is None:
            return 0
        return max(0, int((self.ended_at - self.answered_at).total_seconds()))


@dataclass(frozen=True)
class Ringing:
    call: Call
    agent: str
    attempt: int


@dataclass(frozen=True)
class Answered:
    call: Call
    agent: str


@dataclass(frozen=True)
class Finished:
    call: Call


@dataclass(frozen=True)
class Started:
    """An inbound call reached the PBX: nothing rings yet, but the caller's card can be fetched already."""

    call: Call


Progress = Started | Ringing | Answered | Finished


class CallTracker:
    """Feed it every AMI event in order; it returns what each one changed for the agents."""

    def __init__(self, extensions: Extensions | None = None) -> None:
        self.extensions = extensions or Extensions()
        self.calls: OrderedDict[str, Call] = OrderedDict()
        self.finished: OrderedDict[str, Call] = OrderedDict()
        self._channel_call: dict[str, str] = {}  # Uniqueid -> call_id
        self._finished_by_channel: dict[str, str] = {}

    def feed(self, event: Mapping[str, Any], now: datetime | None = None) -> list[Progress]:
        """Apply one event (a header mapping as AMI sent it); ``now`` stamps times when the event has none."""
        name = _value(event, "Event")
        handler = _HANDLERS.get((name or "").lower())
        if handler is None:
            return []
        return handler(self, event, _event_time(event, now))

    def reconcile(self, live: set[str], now: datetime | None = None) -> list[Progress]:
        """After a reconnect: ``live`` is every channel Asterisk still has (``CoreShowChannels``). Channels
        that hung up while we were away leave their calls; a call with none left is finished, with what was
        seen of it (an answer missed in the gap is missed here too)."""
        at = now or datetime.now(UTC)
        progress: list[Progress] = []
        for call in list(self.calls.values()):
            for uniqueid in call.channels - live:
                call.channels.discard(uniqueid)
                self._channel_call.pop(uniqueid, None)
            if not call.channels:
                progress += self._end(call, at)
        return progress

    # -- bookkeeping ------------------------------------------------------------------------------------

    def _call(self, event: Mapping[str, Any], at: datetime, *, create: bool = False) -> Call | None:
        uniqueid = _value(event, "Uniqueid", "UniqueID")
        call_id = self._channel_call.get(uniqueid or "") or _value(event, "Linkedid")
        if call_id is None:
            return None
        call = self.calls.get(call_id)
        if call is None and create:
            call = self.calls[call_id] = Call(call_id=call_id, started_at=at)
            if len(self.calls) > MAX_CALLS:
                self._forget(next(iter(self.calls)))
        if call is not None and uniqueid and _value(event, "Event") != "Hangup":
            self._join(call, uniqueid)
        return call

    def _join(self, call: Call, uniqueid: str) -> None:
        call.channels.add(uniqueid)
        self._channel_call[uniqueid] = call.call_id

    def _forget(self, call_id: str) -> None:
        call = self.calls.pop(call_id)
        for uniqueid in call.channels:
            self._channel_call.pop(uniqueid, None)

    def _ring(self, call: Call, agent: str | None, queue: str | None = None) -> list[Progress]:
        if queue:
            call.queue = queue
        if agent is None or agent in call.ringing or call.outbound or call.originated:
            return []
        if call.agents and call.agents[-1] == agent:
            return []  # the agent who has the call is not ringing for it
        call.ringing.add(agent)
        call.rings[agent] = call.rings.get(agent, 0) + 1
        return [Ringing(call, agent, call.rings[agent])]

    def _answer(self, call: Call, agent: str | None, at: datetime) -> list[Progress]:
        if agent is None:
            return []
        call.ringing.clear()  # the others' phones stop: Asterisk cancels them
        if call.agents and call.agents[-1] == agent:
            return []
        if call.answered_at is None:
            call.answered_at = at
        call.agents.append(agent)
        return [Answered(call, agent)]

    # -- handlers -----------------------------------------------------------------------------------------

    def _newchannel(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._call(event, at, create=True)
        if call is None:
            return []
        uniqueid = _value(event, "Uniqueid")
        if call.origin is None and (uniqueid == call.call_id or len(call.channels) == 1):
            call.origin = uniqueid
            call.origin_channel = _value(event, "Channel")
            call.caller = _value(event, "CallerIDNum")
            call.caller_name = _value(event, "CallerIDName")
            call.called = _value(event, "Exten")
            if call.called == "s":
                call.called = None
            # An extension calling: internal until it dials a trunk (then outbound, see DialBegin).
            call.internal = self.extensions.of_channel(call.origin_channel) is not None
            if not call.internal and call.caller:
                return [Started(call)]
        return []

    def _newcallerid(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._call(event, at)
        if call is not None and _value(event, "Uniqueid") == call.origin:
            call.caller = _value(event, "CallerIDNum") or call.caller
            call.caller_name = _value(event, "CallerIDName") or call.caller_name
        return []

    def _dialbegin(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._dial_call(event, at)
        if call is None:
            return []
        dest = _value(event, "DestChannel")
        agent = self.extensions.of_channel(dest)
        if _value(event, "Channel") is None:
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
            if self.extensions.of_channel(call.origin_channel) is not None or call.originated:
                call.outbound = True
                call.internal = False
                call.originator = call.originator or self.extensions.of_channel(call.origin_channel)
                call.called = _value(event, "DestExten", "DestCallerIDNum") or call.called
            return []
        return self._ring(call, agent)

    def _dial_call(self, event: Mapping[str, Any], at: datetime) -> Call | None:
        dest_uniqueid = _value(event, "DestUniqueid")
        if _value(event, "Channel") is None:  # an Originate's first leg has only the Dest* fields
            event = {"Event": _value(event, "Event"), "Uniqueid": dest_uniqueid,
                     "Linkedid": _value(event, "DestLinkedid")}
        call = self._call(event, at, create=True)
        if call is not None and dest_uniqueid:
            self._join(call, dest_uniqueid)
        return call

    def _dialend(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._dial_call(event, at)
        if call is None:
            return []
        dest = _value(event, "DestChannel")
        agent = self.extensions.of_channel(dest)
        status = (_value(event, "DialStatus") or "").upper()
        if _value(event, "Channel") is None:
            return []  # the originating agent picked up their own phone: the call is not answered yet
        if status != "ANSWER":
            if agent is not None:
                call.ringing.discard(agent)
            return []
        if is_local(dest):
            return []
        if agent is None:
            return self._answer(call, call.originator, at) if call.outbound else []
        return self._answer(call, agent, at) if not call.outbound else []

    def _agentcalled(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._call(event, at, create=True)
        if call is None:
            return []
        agent = self.extensions.of_channel(_value(event, "Interface")) or \
            self.extensions.of_channel(_value(event, "DestChannel"))
        return self._ring(call, agent, _value(event, "Queue"))

    def _agentconnect(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._call(event, at)
        if call is None:
            return []
        agent = self.extensions.of_channel(_value(event, "Interface")) or \
            self.extensions.of_channel(_value(event, "DestChannel"))
        return self._answer(call, agent, at)

    def _agentringnoanswer(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._call(event, at)
        agent = self.extensions.of_channel(_value(event, "Interface"))
        if call is not None and agent is not None:
            call.ringing.discard(agent)
        return []

    def _queuecallerjoin(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._call(event, at, create=True)
        if call is not None:
            call.queue = _value(event, "Queue") or call.queue
        return []

    def _queuecallerabandon(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._call(event, at)
        if call is not None and not call.answered:
            call.abandoned = True
        return []

    def _bridgeenter(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._call(event, at)
        bridge = _value(event, "BridgeUniqueid")
        uniqueid = _value(event, "Uniqueid")
        if call is None or bridge is None or uniqueid is None:
            return []
        members = call.bridges.setdefault(bridge, set())
        members.add(uniqueid)
        if call.answered or call.outbound or len(members) < 2:
            return []
        # A phone in a bridge with another leg of the call, never dialled through DialEnd (a pickup).
        agent = self.extensions.of_channel(_value(event, "Channel"))
        if agent is not None and uniqueid != call.origin:
            return self._answer(call, agent, at)
        return []

    def _bridgeleave(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        call = self._call(event, at)
        bridge = _value(event, "BridgeUniqueid")
        if call is not None and bridge in call.bridges:
            call.bridges[bridge].discard(_value(event, "Uniqueid") or "")
        return []

    def _attendedtransfer(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        """The consultation call joins the original: one call, one contact."""
        if (_value(event, "Result") or "Success").lower() != "success":
            return []
        original = self.calls.get(_value(event, "OrigTransfererLinkedid") or "")
        consult = self.calls.get(_value(event, "SecondTransfererLinkedid") or "")
        if original is None or consult is None or original is consult:
            return []
        for uniqueid in consult.channels:
            self._join(original, uniqueid)
        for agent in consult.agents:
            if agent not in original.agents[-1:]:
                original.agents.append(agent)
        original.recording = original.recording or consult.recording
        del self.calls[consult.call_id]
        return []

    def _varset(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        if (_value(event, "Variable") or "").upper() != "MIXMONITOR_FILENAME":
            return []
        call = self._call(event, at)
        if call is not None:
            call.recording = _value(event, "Value") or call.recording
        return []

    def _hangup(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        uniqueid = _value(event, "Uniqueid")
        call = self._call(event, at)
        if call is None or uniqueid is None:
            return []
        call.channels.discard(uniqueid)
        self._channel_call.pop(uniqueid, None)
        for members in call.bridges.values():
            members.discard(uniqueid)
        if call.channels:
            return []
        return self._end(call, at)

    def _end(self, call: Call, at: datetime) -> list[Progress]:
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

    def _cdr(self, event: Mapping[str, Any], at: datetime) -> list[Progress]:
        """A CDR comes after the hangup: amend the finished call (recording, billed seconds)."""
        uniqueid = _value(event, "UniqueID", "Uniqueid")
        call_id = _value(event, "Linkedid") or self._finished_by_channel.get(uniqueid or "")
        call = self.finished.get(call_id or "") or self.calls.get(call_id or "")
        if call is None:
            return []
        recording = _value(event, "RecordingFile", "Recordingfile", "recordingfile")
        call.recording = call.recording or recording
        billed = _value(event, "BillableSeconds")
        if billed is not None and billed.isdigit() and call.answered:
            call.billed_s = max(call.billed_s or 0, int(billed))
        return []


_HANDLERS = {
    "newchannel": CallTracker._newchannel,
    "newcallerid": CallTracker._newcallerid,
    "dialbegin": CallTracker._dialbegin,
    "dialend": CallTracker._dialend,
    "agentcalled": CallTracker._agentcalled,
    "agentconnect": CallTracker._agentconnect,
    "agentringnoanswer": CallTracker._agentringnoanswer,
    "queuecallerjoin": CallTracker._queuecallerjoin,
    "queuecallerabandon": CallTracker._queuecallerabandon,
    "bridgeenter": CallTracker._bridgeenter,
    "bridgeleave": CallTracker._bridgeleave,
    "attendedtransfer": CallTracker._attendedtransfer,
    "varset": CallTracker._varset,
    "hangup": CallTracker._hangup,
    "cdr": CallTracker._cdr,
}


def _event_time(event: Mapping[str, Any], now: datetime | None) -> datetime:
    """``Timestamp`` (``timestampevents=yes``) when Asterisk sent one, else the receiver's clock."""
    stamp = _value(event, "Timestamp")
    if stamp is not None:
        try:
            return datetime.fromtimestamp(float(stamp), UTC)
        except ValueError:
            pass
    return now or datetime.now(UTC)


__all__ = ["Answered", "Call", "CallTracker", "Finished", "Progress", "Ringing", "Started", "endpoint"]
