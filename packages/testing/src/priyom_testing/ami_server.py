"""A local Asterisk Manager Interface server speaking the real wire protocol, for tests and the pop-up bench.

What a client sees is what Asterisk 16-22 sends, byte for byte: the banner ``Asterisk Call Manager/<ver>\\r\\n``,
``Key: Value\\r\\n`` lines, a blank line after every message, the ActionID echoed on each response, the
``Login`` answer (``Response: Success`` / ``Message: Authentication accepted`` then ``Event: FullyBooted``, or
``Response: Error`` / ``Message: Authentication failed`` and the socket closed), ``Ping`` / ``Pong``,
``Originate`` queued, ``Logoff``'s goodbye. Events come from the recorded transcripts in
``shared/corpus/ami`` (:func:`load_transcript`) or from :class:`ScriptedPbx`, which writes the event stream of
a whole call (direct, through a queue, transferred, missed, abandoned) the way chan_pjsip and app_queue do.

``on_sent(event, sent_at)`` is called right after each event was written to every client, with
``time.time()``: the pop-up bench measures from there. ``split_utf8`` cuts every event inside a multi-byte
character and writes the halves apart, which is how panoramisk's decoding bug shows up.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Event = dict[str, str]
OnSent = Callable[[Mapping[str, str], float], None]


def render(message: Mapping[str, Any]) -> bytes:
    """One AMI message on the wire: ``Key: Value\\r\\n`` lines and a blank line."""
    lines = []
    for key, value in message.items():
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{key}: {'' if item is None else item}\r\n")
    return ("".join(lines) + "\r\n").encode("utf-8")


def load_transcript(path: Path) -> list[Event]:
    """The events of a corpus file: cacofonisk's JSON lists (keys sorted by the recorder, ``content`` added:
    dropped, ``Event`` put first as Asterisk sends it) or raw AMI text (LF or CRLF), actions and responses
    left out."""
    data = path.read_bytes()
    if path.suffix == ".json":
        events = []
        for item in json.loads(data):
            event = {"Event": str(item["Event"])}
            event.update({k: "" if v is None else str(v) for k, v in item.items()
                          if k not in ("Event", "content")})
            events.append(event)
        return events
    events = []
    for block in data.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        message: Event = {}
        for line in block.split("\n"):
            key, sep, value = line.partition(":")
            if sep:
                message[key.strip()] = value[1:] if value.startswith(" ") else value
        if "Event" in message:
            events.append(message)
    return events


@dataclass
class _Client:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    logged_in: bool = False


@dataclass
class FakeAmiServer:
    """``async with FakeAmiServer(username="priyom", secret="s3cret") as ami: ami.port ...``"""

    username: str = "priyom"
    secret: str = "s3cret"
    version: str = "9.0.0"  # the AMI version of Asterisk 21
    on_sent: OnSent | None = None
    split_utf8: bool = False
    #: False: Ping goes unanswered, as on a half-open connection (the client's watchdog must notice).
    answer_pings: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    actions: list[dict[str, str]] = field(default_factory=list)
    logins: int = 0
    failed_logins: int = 0
    #: The channels up now, as the events sent so far say (Newchannel adds, Hangup removes), for
    #: ``CoreShowChannels``: Uniqueid -> the Newchannel's fields.
    live_channels: dict[str, dict[str, str]] = field(default_factory=dict)
    _server: asyncio.base_events.Server | None = None
    _clients: list[_Client] = field(default_factory=list)
    _logged_in: asyncio.Condition | None = None
    _send_lock: asyncio.Lock | None = None

    async def start(self) -> FakeAmiServer:
        self._logged_in = asyncio.Condition()
        self._send_lock = asyncio.Lock()
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await self.drop_clients()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> FakeAmiServer:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def clients(self) -> int:
        """Clients logged in now."""
        return sum(1 for c in self._clients if c.logged_in)

    async def wait_for_login(self, count: int = 1, timeout: float = 10.0) -> None:
        """Until ``count`` logins succeeded since the server started."""
        assert self._logged_in is not None
        async with self._logged_in:
            await asyncio.wait_for(self._logged_in.wait_for(lambda: self.logins >= count), timeout)

    async def drop_clients(self) -> None:
        """Close every connection, as an Asterisk restart or a network cut does."""
        for client in list(self._clients):
            client.writer.close()
        self._clients.clear()

    async def send(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Write events to every logged-in client, in order; ``on_sent`` after each one."""
        assert self._send_lock is not None
        async with self._send_lock:
            for event in events:
                self._follow(event)
                wire = render(event)
                for client in [c for c in self._clients if c.logged_in]:
                    await self._write(client, wire)
                if self.on_sent is not None:
                    self.on_sent(event, time.time())

    def _follow(self, event: Mapping[str, Any]) -> None:
        name, uniqueid = event.get("Event"), event.get("Uniqueid")
        if name == "Newchannel" and uniqueid:
            self.live_channels[str(uniqueid)] = {k: str(v) for k, v in event.items() if k not in ("Event", "Privilege")}
        elif name == "Hangup" and uniqueid:
            self.live_channels.pop(str(uniqueid), None)

    async def _write(self, client: _Client, wire: bytes) -> None:
        try:
            if self.split_utf8 and (cut := _inside_a_character(wire)) is not None:
                client.writer.write(wire[:cut])
                await client.writer.drain()
                await asyncio.sleep(0.005)  # a separate read on the client's side
                client.writer.write(wire[cut:])
            else:
                client.writer.write(wire)
            await client.writer.drain()
        except ConnectionError:
            client.logged_in = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(reader, writer)
        self._clients.append(client)
        try:
            writer.write(f"Asterisk Call Manager/{self.version}\r\n".encode())
            await writer.drain()
            while (action := await _read_message(reader)) is not None:
                if not await self._answer(client, action):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            client.logged_in = False
            if client in self._clients:
                self._clients.remove(client)
            writer.close()

    async def _answer(self, client: _Client, action: dict[str, str]) -> bool:
        """Answer one action; False closes the connection."""
        self.actions.append(action)
        fields = {key.lower(): value for key, value in action.items()}  # Asterisk reads keys in any case
        name = fields.get("action", "").lower()
        reply: dict[str, Any] = {"Response": "Success"}
        if "actionid" in fields:
            reply["ActionID"] = fields["actionid"]
        if name == "login":
            if fields.get("username") != self.username or fields.get("secret") != self.secret:
                self.failed_logins += 1
                reply.update(Response="Error", Message="Authentication failed")
                await self._reply(client, reply)
                return False
            reply["Message"] = "Authentication accepted"
            await self._reply(client, reply)
            await self._reply(client, {"Event": "FullyBooted", "Privilege": "system,all", "Uptime": "1",
                                       "LastReload": "1", "Status": "Fully Booted"})
            client.logged_in = True
            assert self._logged_in is not None
            async with self._logged_in:
                self.logins += 1
                self._logged_in.notify_all()
            return True
        if not client.logged_in:
            reply.update(Response="Error", Message="Permission denied")
        elif name == "ping":
            if not self.answer_pings:
                return True
            reply.update(Ping="Pong", Timestamp=f"{time.time():.6f}")
        elif name == "originate":
            reply["Message"] = "Originate successfully queued"
            await self._reply(client, reply)
            # Asterisk reports the outcome later, as an event carrying the action's ActionID.
            await self._reply(client, {"Event": "OriginateResponse", "Privilege": "call,all",
                                       "ActionID": fields.get("actionid", ""), "Response": "Success",
                                       "Channel": fields.get("channel", ""), "Context": fields.get("context", ""),
                                       "Exten": fields.get("exten", ""), "Application": "", "Data": "",
                                       "Reason": "4", "Uniqueid": "<null>", "CallerIDNum": "<unknown>",
                                       "CallerIDName": "<unknown>"})
            return True
        elif name == "coreshowchannels":
            action_id = fields.get("actionid", "")
            reply.update(EventList="start", Message="Channels will follow")
            await self._reply(client, reply)
            for channel in list(self.live_channels.values()):
                await self._reply(client, {"Event": "CoreShowChannel", "ActionID": action_id, **channel,
                                           "Application": "Dial", "ApplicationData": "", "Duration": "00:00:05",
                                           "BridgeId": ""})
            await self._reply(client, {"Event": "CoreShowChannelsComplete", "ActionID": action_id,
                                       "EventList": "Complete", "ListItems": str(len(self.live_channels))})
            return True
        elif name == "logoff":
            reply.update(Response="Goodbye", Message="Thanks for all the fish.")
            await self._reply(client, reply)
            return False
        else:
            reply.update(Response="Error", Message="Invalid/unknown command")
        await self._reply(client, reply)
        return True

    async def _reply(self, client: _Client, message: Mapping[str, Any]) -> None:
        client.writer.write(render(message))
        await client.writer.drain()


async def _read_message(reader: asyncio.StreamReader) -> dict[str, str] | None:
    message: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if not line:
            return None
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            if message:
                return message
            continue
        key, _, value = text.partition(":")
        message[key.strip()] = value.strip()


def _inside_a_character(wire: bytes) -> int | None:
    """An offset that falls between the bytes of a multi-byte UTF-8 character, if the message has one."""
    for index, byte in enumerate(wire):
        if byte >= 0xC0:  # a lead byte: cut right after it
            return index + 1
    return None


# -- scripted calls -----------------------------------------------------------------------------------


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
