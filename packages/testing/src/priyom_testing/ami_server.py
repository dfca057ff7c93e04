"""A local Asterisk Manager Interface server speaking the real wire protocol, for tests and the pop-up bench.

What a client sees is what Asterisk 16-22 sends, byte for byte: the banner ``Asterisk Call Manager/<ver>\\r\\n``,
``Key: Value\\r\\n`` lines, a blank line after every message, the ActionID echoed on each response, the
``Login`` answer (``Response: Success`` / ``Message: Authentication accepted`` then ``Event: FullyBooted``, or
``Response: Error`` / ``Message: Authentication failed`` and the socket closed), ``Ping`` / ``Pong``,
``Originate`` queued, ``Logoff``'s goodbye. Events come from the recorded transcripts in
``shared/corpus/ami`` (:func:`load_transcript`) or from :mod:`.scripted_pbx`, which writes the event stream
of a whole call (direct, through a queue, transferred, missed, abandoned) the way chan_pjsip and app_queue do.

``on_sent(event, sent_at)`` is called right after each event was written to every client, with
``time.time()``: the pop-up bench measures from there. ``split_utf8`` cuts every event inside a multi-byte
character and writes the halves apart, which is how panoramisk's decoding bug shows up.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from priyom_kit.deadlines import bounded

Event = dict[str, str]
#: The fields of a channel's snapshot, as events carry them and ``CoreShowChannels`` lists them.
SNAPSHOT = ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName", "ConnectedLineNum",
            "ConnectedLineName", "Context", "Exten", "Priority", "Linkedid")
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
            await bounded(self._logged_in.wait_for(lambda: self.logins >= count), timeout)

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
        """Keep each live channel as Asterisk would list it now: every event carries a snapshot of its
        channel (and a ``Dest``-prefixed one of the other party), whose fields replace the listed ones."""
        name, uniqueid = event.get("Event"), event.get("Uniqueid")
        if name == "Newchannel" and uniqueid:
            self.live_channels[str(uniqueid)] = {k: str(v) for k, v in event.items() if k not in ("Event", "Privilege")}
            return
        if name == "Hangup" and uniqueid:
            self.live_channels.pop(str(uniqueid), None)
            return
        for prefix in ("", "Dest"):
            listed = self.live_channels.get(str(event.get(f"{prefix}Uniqueid", "")))
            if listed is not None:
                listed.update({key: str(event[f"{prefix}{key}"]) for key in SNAPSHOT if f"{prefix}{key}" in event})

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
