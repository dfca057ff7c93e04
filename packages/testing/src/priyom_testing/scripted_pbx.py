"""Whole calls as Asterisk 16-22 reports them over AMI (chan_pjsip, app_queue, bridges, CDRs), for the fake
AMI server (:mod:`.ami_server`) to send: direct, through a queue, transferred, missed, abandoned.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

from .ami_server import Event


class ScriptedPbx:
    """Writes whole calls as Asterisk 16-22 reports them (chan_pjsip, app_queue, bridges, CDRs).

    Every call gets fresh ``Uniqueid``s; the first channel's is the call's ``Linkedid``. Phones are
    ``PJSIP/<ext>``, the provider trunk ``PJSIP/<trunk>``.
    """

    def __init__(self, system: str = "pbx1", trunk: str = "provider", start: float | None = None) -> None:
        self.system = system
        self.trunk = trunk
        self._epoch = int(start or time.time())
        self._ids = itertools.count(1)
        self._seq = itertools.count(0x1A)

    # -- building blocks ----------------------------------------------------------------------------

    def _channel(self, device: str, *, linkedid: str | None, num: str, name: str, exten: str,
                 context: str, state: int = 0) -> Event:
        uniqueid = f"{self.system}-{self._epoch}.{next(self._ids)}"
        return {"Channel": f"PJSIP/{device}-{next(self._seq):08x}", "ChannelState": str(state),
                "ChannelStateDesc": _STATES[state], "CallerIDNum": num, "CallerIDName": name,
                "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>", "Language": "en",
                "AccountCode": "", "Context": context, "Exten": exten, "Priority": "1",
                "Uniqueid": uniqueid, "Linkedid": linkedid or uniqueid}

    @staticmethod
    def _event(name: str, *parts: tuple[str, Event], **extra: str) -> Event:
        event: Event = {"Event": name, "Privilege": "call,all"}
        for prefix, channel in parts:
            event.update({f"{prefix}{k}": v for k, v in channel.items()})
        event.update(extra)
        return event

    @staticmethod
    def _state(channel: Event, state: int) -> Event:
        channel.update(ChannelState=str(state), ChannelStateDesc=_STATES[state])
        return {"Event": "Newstate", "Privilege": "call,all", **channel}

    def _hangup(self, channel: Event, cause: int = 16) -> Event:
        return {"Event": "Hangup", "Privilege": "call,all", **channel, "Cause": str(cause),
                "Cause-txt": _CAUSES.get(cause, "Unknown")}

    def _bridge(self, bridge: str, channel: Event, leave: bool = False) -> Event:
        return {"Event": "BridgeLeave" if leave else "BridgeEnter", "Privilege": "call,all",
                "BridgeUniqueid": bridge, "BridgeType": "basic", "BridgeTechnology": "simple_bridge",
                "BridgeCreator": "<unknown>", "BridgeName": "<unknown>", "BridgeNumChannels": "2",
                "BridgeVideoSourceMode": "none", **channel}

    def inbound(self, caller: str, caller_name: str = "", did: str = "74950000000") -> Event:
        """The trunk channel of an inbound call (its Uniqueid is the call's Linkedid)."""
        return self._channel(self.trunk, linkedid=None, num=caller, name=caller_name, exten=did,
                             context="from-trunk", state=4)

    def _phone(self, agent: str, linkedid: str, caller: str, caller_name: str) -> Event:
        phone = self._channel(agent, linkedid=linkedid, num=agent, name=f"Agent {agent}", exten="s",
                              context="from-internal")
        phone.update(ConnectedLineNum=caller, ConnectedLineName=caller_name or "<unknown>")
        return phone

    def _cdr(self, trunk: Event, dest: str, disposition: str, billed: int, recording: str | None) -> Event:
        cdr = {"Event": "Cdr", "Privilege": "cdr,all", "AccountCode": "", "Source": trunk["CallerIDNum"],
               "Destination": trunk["Exten"], "DestinationContext": trunk["Context"],
               "CallerID": f"\"{trunk['CallerIDName']}\" <{trunk['CallerIDNum']}>", "Channel": trunk["Channel"],
               "DestinationChannel": dest, "LastApplication": "Dial", "LastData": "", "StartTime": "",
               "AnswerTime": "", "EndTime": "", "Duration": str(billed + 5), "BillableSeconds": str(billed),
               "Disposition": disposition, "AMAFlags": "DOCUMENTATION", "UniqueID": trunk["Uniqueid"],
               "UserField": ""}
        if recording:
            cdr["RecordingFile"] = recording
        return cdr

    # -- whole calls ---------------------------------------------------------------------------------

    def direct_call(self, caller: str, agent: str = "101", *, caller_name: str = "", answered: bool = True,
                    recording: str | None = None, talk: Sequence[Event] = ()) -> tuple[str, list[Event]]:
        """A call from the trunk straight to one phone: answered (then hung up), or missed (no answer)."""
        trunk = self.inbound(caller, caller_name)
        linkedid = trunk["Uniqueid"]
        phone = self._phone(agent, linkedid, caller, caller_name)
        events = [self._event("Newchannel", ("", trunk)),
                  self._event("Newchannel", ("", phone)),
                  self._event("DialBegin", ("", trunk), ("Dest", phone), DialString=agent),
                  self._state(phone, 5),
                  self._event("DialState", ("", trunk), ("Dest", phone), DialStatus="RINGING")]
        if not answered:
            events += [self._event("DialEnd", ("", trunk), ("Dest", phone), DialStatus="NOANSWER"),
                       self._hangup(phone, 19), self._hangup(trunk, 19),
                       self._cdr(trunk, phone["Channel"], "NO ANSWER", 0, None)]
            return linkedid, events
        events += self._answered(trunk, phone, recording, talk)
        events += [self._cdr(trunk, phone["Channel"], "ANSWERED", 42, recording)]
        return linkedid, events

    def _answered(self, trunk: Event, phone: Event, recording: str | None,
                  talk: Sequence[Event] = ()) -> list[Event]:
        bridge = f"{self.system}-bridge-{next(self._ids)}"
        events = [self._event("DialEnd", ("", trunk), ("Dest", phone), DialStatus="ANSWER"),
                  self._state(phone, 6), self._state(trunk, 6),
                  self._bridge(bridge, phone), self._bridge(bridge, trunk)]
        if recording:
            events.append({"Event": "VarSet", "Privilege": "dialplan,all", **trunk,
                           "Variable": "MIXMONITOR_FILENAME", "Value": recording})
        events += list(talk)
        events += [self._bridge(bridge, trunk, leave=True), self._bridge(bridge, phone, leave=True),
                   self._hangup(phone), self._hangup(trunk)]
        return events

    def queue_call(self, caller: str, agents: Sequence[str], *, answered_by: str | None, queue: str = "support",
                   caller_name: str = "", abandon: bool = False,
                   recording: str | None = None) -> tuple[str, list[Event]]:
        """A call waiting in an app_queue queue while its members ring; answered by one, or abandoned by the
        caller (``abandon``), or timed out with nobody answering."""
        trunk = self.inbound(caller, caller_name)
        linkedid = trunk["Uniqueid"]
        events = [self._event("Newchannel", ("", trunk)),
                  self._event("QueueCallerJoin", ("", trunk), Queue=queue, Position="1", Count="1")]
        phones = {agent: self._phone(agent, linkedid, caller, caller_name) for agent in agents}
        for agent, phone in phones.items():
            member = {"Queue": queue, "Interface": f"PJSIP/{agent}", "MemberName": f"Agent {agent}"}
            events += [self._event("Newchannel", ("", phone)),
                       self._event("AgentCalled", ("", trunk), ("Dest", phone), **member),
                       self._event("DialBegin", ("", trunk), ("Dest", phone), DialString=agent),
                       self._state(phone, 5)]
        if answered_by is None:
            if abandon:
                events.append(self._event("QueueCallerAbandon", ("", trunk), Queue=queue, Position="1",
                                          OriginalPosition="1", HoldTime="12"))
            for agent, phone in phones.items():
                member = {"Queue": queue, "Interface": f"PJSIP/{agent}", "MemberName": f"Agent {agent}"}
                events += [self._event("DialEnd", ("", trunk), ("Dest", phone), DialStatus="CANCEL"),
                           self._hangup(phone, 16)]
                if not abandon:
                    events.append(self._event("AgentRingNoAnswer", ("", trunk), ("Dest", phone), **member,
                                              RingTime="15"))
            events += [self._event("QueueCallerLeave", ("", trunk), Queue=queue, Position="1", Count="0"),
                       self._hangup(trunk, 16 if abandon else 19),
                       self._cdr(trunk, "", "NO ANSWER", 0, None)]
            return linkedid, events
        winner = phones[answered_by]
        for agent, phone in phones.items():
            if agent != answered_by:
                events += [self._event("DialEnd", ("", trunk), ("Dest", phone), DialStatus="CANCEL"),
                           self._hangup(phone, 26)]
        events += [self._event("QueueCallerLeave", ("", trunk), Queue=queue, Position="1", Count="0"),
                   self._event("AgentConnect", ("", trunk), ("Dest", winner), Queue=queue,
                               Interface=f"PJSIP/{answered_by}", MemberName=f"Agent {answered_by}",
                               HoldTime="7", RingTime="3")]
        events += self._answered(trunk, winner, recording)
        events += [self._cdr(trunk, winner["Channel"], "ANSWERED", 30, recording)]
        return linkedid, events

    def transferred_call(self, caller: str, first: str, second: str, *,
                         caller_name: str = "") -> tuple[str, list[Event]]:
        """Answered by ``first``, who blind-transfers it to ``second``, who answers: still one call."""
        trunk = self.inbound(caller, caller_name)
        linkedid = trunk["Uniqueid"]
        a = self._phone(first, linkedid, caller, caller_name)
        b = self._phone(second, linkedid, caller, caller_name)
        bridge1, bridge2 = f"{self.system}-bridge-{next(self._ids)}", f"{self.system}-bridge-{next(self._ids)}"
        events = [self._event("Newchannel", ("", trunk)), self._event("Newchannel", ("", a)),
                  self._event("DialBegin", ("", trunk), ("Dest", a), DialString=first), self._state(a, 5),
                  self._event("DialEnd", ("", trunk), ("Dest", a), DialStatus="ANSWER"),
                  self._bridge(bridge1, a), self._bridge(bridge1, trunk),
                  self._event("BlindTransfer", ("Transferer", a), ("Transferee", trunk), Result="Success",
                              IsExternal="No", Context="from-internal", Extension=second),
                  self._bridge(bridge1, a, leave=True), self._hangup(a),
                  self._bridge(bridge1, trunk, leave=True),
                  self._event("Newchannel", ("", b)),
                  self._event("DialBegin", ("", trunk), ("Dest", b), DialString=second), self._state(b, 5),
                  self._event("DialEnd", ("", trunk), ("Dest", b), DialStatus="ANSWER"),
                  self._bridge(bridge2, b), self._bridge(bridge2, trunk),
                  self._bridge(bridge2, trunk, leave=True), self._bridge(bridge2, b, leave=True),
                  self._hangup(b), self._hangup(trunk),
                  self._cdr(trunk, b["Channel"], "ANSWERED", 60, None)]
        return linkedid, events

    def picked_up_call(self, caller: str, rung: str, picker: str, *,
                       order: Sequence[str] = ("pickup", "hangup", "dialend", "bridge"),
                       feature_code: str = "*8") -> tuple[str, list[Event]]:
        """A call ringing on ``rung`` that ``picker`` takes with a pickup feature code (``Pickup()``).

        The picker's phone first has a call of its own (the code it dialled, its own ``Linkedid``). Then
        Asterisk 12-22 masquerades (``ast_do_pickup`` -> ``ast_channel_move``): the picker's channel takes the
        rung channel's place in the ``Dial`` (the two swap ``Uniqueid``/``Linkedid``), the rung phone's
        channel hangs up with cause 26, and the steps of ``order`` follow in that order: ``pickup`` (the
        ``Pickup`` event; left out when a PBX's event filter drops it), ``hangup`` (the rung channel's),
        ``dialend`` (the ``Dial`` answered by the picker's channel) and ``bridge`` (picker and caller
        bridged; the picker's channel takes the caller's ``Linkedid`` there)."""
        trunk = self.inbound(caller)
        linkedid = trunk["Uniqueid"]
        ringing = self._phone(rung, linkedid, caller, "")
        own = self._channel(picker, linkedid=None, num=picker, name=f"Agent {picker}", exten=feature_code,
                            context="from-internal", state=4)
        events = [self._event("Newchannel", ("", trunk)), self._event("Newchannel", ("", ringing)),
                  self._event("DialBegin", ("", trunk), ("Dest", ringing), DialString=rung),
                  self._state(ringing, 5), self._event("Newchannel", ("", own)), self._state(own, 6)]
        picking = dict(own)  # the snapshot the Pickup event carries: the picker before the masquerade
        bridge = f"{self.system}-bridge-{next(self._ids)}"
        steps = {
            "pickup": [self._event("Pickup", ("", picking), ("Target", ringing))],
            "hangup": [self._hangup(ringing, 26)],
            "dialend": [self._event("DialEnd", ("", trunk), ("Dest", own), DialStatus="ANSWER")],
            "bridge": [self._bridge(bridge, {**own, "Linkedid": linkedid}), self._bridge(bridge, trunk)],
        }
        for step in order:
            events += steps[step]
        if "hangup" not in order:
            events.append(self._hangup(ringing, 26))
        own["Linkedid"] = linkedid
        events += [self._bridge(bridge, trunk, leave=True), self._bridge(bridge, own, leave=True),
                   self._hangup(own), self._hangup(trunk)]
        return linkedid, events

    def originated_call(self, agent: str, number: str) -> tuple[str, list[Event]]:
        """What an ``Originate`` of ``PJSIP/<agent>`` to ``number`` produces: the agent's phone rings first,
        then the number is dialled out through the trunk and answers."""
        phone = self._channel(agent, linkedid=None, num=number, name="", exten=number, context="from-internal")
        linkedid = phone["Uniqueid"]
        out = self._channel(self.trunk, linkedid=linkedid, num=number, name="", exten=number,
                            context="from-internal")
        bridge = f"{self.system}-bridge-{next(self._ids)}"
        begin = {"Event": "DialBegin", "Privilege": "call,all", **{f"Dest{k}": v for k, v in phone.items()},
                 "DialString": f"PJSIP/{agent}"}
        end = {**begin, "Event": "DialEnd", "DialStatus": "ANSWER"}
        events = [self._event("Newchannel", ("", phone)), begin, self._state(phone, 5), end,
                  self._state(phone, 6), self._event("Newchannel", ("", out)),
                  self._event("DialBegin", ("", phone), ("Dest", out), DialString=f"{self.trunk}/{number}"),
                  self._event("DialEnd", ("", phone), ("Dest", out), DialStatus="ANSWER"),
                  self._bridge(bridge, phone), self._bridge(bridge, out),
                  self._bridge(bridge, out, leave=True), self._bridge(bridge, phone, leave=True),
                  self._hangup(out), self._hangup(phone)]
        return linkedid, events


_STATES = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}
_CAUSES = {16: "Normal Clearing", 19: "User alerting, no answer", 26: "Answered elsewhere"}
