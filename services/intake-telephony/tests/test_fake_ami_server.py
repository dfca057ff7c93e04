"""The fake AMI server speaks what Asterisk speaks: checked against recorded sessions (``shared/corpus/ami``),
and against panoramisk itself, including the UTF-8 split that panoramisk's own protocol gets wrong."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from panoramisk.ami_protocol import AMIProtocol

from priyom_intake_telephony.ami import AmiConnection, AmiState, Utf8AmiProtocol
from priyom_testing.ami_server import load_transcript, render
from priyom_testing.scripted_pbx import ScriptedPbx

from .conftest import FakeAmiServer


async def session(server: FakeAmiServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def read_block(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)


def recorded(corpus_dir: Path, name: str) -> list[bytes]:
    """A recorded session's messages as Asterisk sent them (LF in the file, CRLF on the wire)."""
    text = (corpus_dir / "ami/gawel-panoramisk" / name).read_bytes().decode().replace("\n", "\r\n")
    return [block + b"\r\n\r\n" for block in text.encode().split(b"\r\n\r\n") if block.strip()]


async def test_banner_and_login_as_recorded(corpus_dir: Path, ami: FakeAmiServer) -> None:
    banner_and_action, response, booted = recorded(corpus_dir, "login_ok.yaml")[:3]
    banner, _, action = banner_and_action.partition(b"\r\n")
    reader, writer = await session(ami)
    assert await reader.readline() == b"Asterisk Call Manager/9.0.0\r\n"
    assert banner.startswith(b"Asterisk Call Manager/")
    writer.write(action.replace(b"nnnnnnnnn", b"priyom").replace(b"yyyyyyyyyyyy", b"s3cret"))
    assert await read_block(reader) == response  # the recorded answer, byte for byte
    fully_booted = await read_block(reader)
    assert fully_booted.startswith(b"Event: FullyBooted\r\nPrivilege: system,all\r\n")
    assert b"Status: Fully Booted\r\n" in fully_booted and booted.startswith(b"Event: FullyBooted")
    writer.write(b"Action: Ping\r\nActionID: p1\r\n\r\n")
    pong = await read_block(reader)
    assert pong.startswith(b"Response: Success\r\nActionID: p1\r\nPing: Pong\r\nTimestamp: ")
    writer.write(b"Action: Logoff\r\nActionID: bye\r\n\r\n")
    assert await read_block(reader) == (b"Response: Goodbye\r\nActionID: bye\r\n"
                                        b"Message: Thanks for all the fish.\r\n\r\n")
    assert await reader.read() == b""  # and the server hangs up
    writer.close()


async def test_a_wrong_secret_is_refused_and_the_socket_closed(ami: FakeAmiServer) -> None:
    reader, writer = await session(ami)
    await reader.readline()
    writer.write(b"Action: Login\r\nActionID: 1\r\nUsername: priyom\r\nSecret: wrong\r\n\r\n")
    assert await read_block(reader) == b"Response: Error\r\nActionID: 1\r\nMessage: Authentication failed\r\n\r\n"
    assert await reader.read() == b""
    assert ami.failed_logins == 1
    writer.close()


async def test_events_go_only_to_logged_in_clients_with_a_sent_time(ami: FakeAmiServer) -> None:
    sent: list[tuple[str, float]] = []
    ami.on_sent = lambda event, at: sent.append((event["Event"], at))
    reader, writer = await session(ami)
    await reader.readline()
    writer.write(b"Action: Login\r\nUsername: priyom\r\nSecret: s3cret\r\n\r\n")
    await read_block(reader)
    await read_block(reader)
    _, events = ScriptedPbx().direct_call("+79161234567", "101")
    await ami.send(events[:2])
    assert await read_block(reader) == render(events[0])
    assert await read_block(reader) == render(events[1])
    assert [name for name, _ in sent] == ["Newchannel", "Newchannel"] and sent[0][1] <= sent[1][1]
    writer.close()


def test_transcripts_load_in_wire_order(corpus_dir: Path) -> None:
    events = load_transcript(corpus_dir / "ami/voipgrid-cacofonisk/queue/queue_simple.json")
    assert len(events) == 68 and all(next(iter(e)) == "Event" for e in events)
    assert all("content" not in e for e in events)
    raw = load_transcript(corpus_dir / "ami/sweeney-asterisk-mqtt/unanswered-cancel.raw")
    assert raw[0]["Event"] == "Newchannel" and raw[0]["AccountCode"] == ""
    assert render(raw[0]).endswith(b"\r\nLinkedid: 1770888559.46\r\n\r\n")


class _Collect:
    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []

    def __call__(self, event: object) -> None:
        self.events.append(dict(event))  # type: ignore[call-overload]


@pytest.mark.parametrize("protocol", [Utf8AmiProtocol, AMIProtocol])
async def test_a_name_cut_between_two_reads(protocol: type[AMIProtocol]) -> None:
    """panoramisk's own protocol loses the cut character; ours keeps it."""
    received = _Collect()
    async with FakeAmiServer(split_utf8=True) as server:
        connection = AmiConnection(host="127.0.0.1", port=server.port, username="priyom", secret="s3cret",
                                   events="call", on_event=received)
        connection.protocol_factory = protocol
        await connection.start()
        await server.wait_for_login()
        _, events = ScriptedPbx().direct_call("+79161234567", "101", caller_name="Иван Петров")
        await server.send(events[:1])
        for _ in range(100):
            if received.events:
                break
            await asyncio.sleep(0.02)
        await connection.stop()
    name = received.events[0]["CallerIDName"]
    if protocol is Utf8AmiProtocol:
        assert name == "Иван Петров"
    else:
        assert name != "Иван Петров"  # the bug this service works around


async def test_a_wrong_secret_shows_in_the_state() -> None:
    async with FakeAmiServer() as server:
        connection = AmiConnection(host="127.0.0.1", port=server.port, username="priyom", secret="wrong",
                                   events="call", on_event=lambda _: None, backoff_min_s=0.1, backoff_max_s=0.4)
        await connection.start()
        for _ in range(100):
            if connection.state is AmiState.AUTH_FAILED and server.failed_logins >= 2:
                break
            await asyncio.sleep(0.05)
        state = connection.state
        await connection.stop()
    assert state is AmiState.AUTH_FAILED
    assert server.failed_logins >= 2 and server.logins == 0  # it keeps trying, with backoff


async def test_an_unanswered_ping_closes_the_connection_and_it_comes_back() -> None:
    async with FakeAmiServer() as server:
        connection = AmiConnection(host="127.0.0.1", port=server.port, username="priyom", secret="s3cret",
                                   events="call", on_event=lambda _: None, ping_interval_s=0.3,
                                   backoff_min_s=0.1, backoff_max_s=0.2)
        await connection.start()
        await server.wait_for_login()
        for _ in range(100):  # the client learns of its login just after the server counted it
            if connection.state is AmiState.CONNECTED:
                break
            await asyncio.sleep(0.01)
        server.answer_pings = False  # the line is dead but TCP does not say so
        for _ in range(100):  # a ping goes out and its answer does not come: the client hangs up
            if connection.state is not AmiState.CONNECTED:
                break
            await asyncio.sleep(0.05)
        server.answer_pings = True
        await server.wait_for_login(2, timeout=10)
        pings = sum(1 for a in server.actions if a.get("Action") == "Ping")
        await connection.stop()
    assert pings >= 1 and connection.logins >= 1


async def test_the_watchdog_survives_any_error_and_reconnects() -> None:
    """A ping that fails with something other than a timeout (here panoramisk raising on a broken protocol)
    closes the connection like an unanswered one, and the watchdog keeps pinging afterwards."""
    async with FakeAmiServer() as server:
        connection = AmiConnection(host="127.0.0.1", port=server.port, username="priyom", secret="s3cret",
                                   events="call", on_event=lambda _: None, ping_interval_s=0.2,
                                   backoff_min_s=0.1, backoff_max_s=0.2)
        await connection.start()
        await server.wait_for_login()
        assert connection.manager is not None
        send_action = connection.manager.send_action
        failures = 0

        def broken(*args: object, **kwargs: object) -> object:
            nonlocal failures
            failures += 1
            raise RuntimeError("protocol is gone")

        connection.manager.send_action = broken  # type: ignore[method-assign]
        for _ in range(100):
            if failures >= 1:
                break
            await asyncio.sleep(0.05)
        connection.manager.send_action = send_action  # type: ignore[method-assign]
        await server.wait_for_login(2, timeout=10)
        pings_before = sum(1 for a in server.actions if a.get("Action") == "Ping")
        await asyncio.sleep(0.6)
        pings_after = sum(1 for a in server.actions if a.get("Action") == "Ping")
        await connection.stop()
    assert failures >= 1 and pings_after > pings_before
