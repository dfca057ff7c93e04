"""A kill -9 loses no call: the service as a process, killed in the middle of calls and started again.

A call answered before the kill and hung up while the service was down becomes its contact at the next
start (the saved call, then ``CoreShowChannels`` saying its channels are gone); a call that started while
the service was down is taken in from ``CoreShowChannels`` and followed to its hangup.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

from priyom_kit.testing import bus_tap
from priyom_testing.ami_server import FakeAmiServer
from priyom_testing.ports import free_port
from priyom_testing.scripted_pbx import ScriptedPbx

from .conftest import migrated_sqlite


def _until_first_hangup(events: list[dict[str, str]]) -> int:
    return next(i for i, e in enumerate(events) if e["Event"] == "Hangup")


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m priyom_intake_telephony serve`` in its own process group."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "priyom_intake_telephony", "serve"], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def kill(process: subprocess.Popen[bytes]) -> None:
    """kill -9, as a crash: nothing is saved or sent on the way out."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


async def wait_healthy(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("intake-telephony never became healthy")


def env_for(amqp_url: str, prefix: str, ami: FakeAmiServer, database_url: str, port: int) -> Iterator[tuple[str, str]]:
    yield from os.environ.items()
    yield from {"AMQP_URL": amqp_url, "PRIYOM_BUS_PREFIX": prefix, "INTAKE_TELEPHONY_DATABASE_URL": database_url,
                "INTAKE_TELEPHONY_PORT": str(port), "INTAKE_TELEPHONY_CDR_WAIT_S": "0.2",
                "INTAKE_TELEPHONY_RECONNECT_MIN_S": "0.2", "AMI_HOST": "127.0.0.1", "AMI_PORT": str(ami.port),
                "AMI_USERNAME": ami.username, "AMI_SECRET": ami.secret}.items()


async def test_calls_survive_a_kill_9(ami: FakeAmiServer, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> None:
    database_url = await asyncio.to_thread(migrated_sqlite, tmp_path)
    port = free_port()
    env = dict(env_for(amqp_url, cleanup_bus, ami, database_url, port))
    pbx = ScriptedPbx()
    answered_id, answered = pbx.direct_call("+79161230101", "101")
    gap_id, gap = pbx.direct_call("+79161230102", "102")
    cut, gap_cut = _until_first_hangup(answered), _until_first_hangup(gap)
    first = await asyncio.to_thread(spawn, env, tmp_path / "telephony.log")
    try:
        await ami.wait_for_login(1, timeout=60)
        await wait_healthy(port)  # the bus topology is declared: the taps can bind
        async with bus_tap(amqp_url, cleanup_bus, "contact.received.v1.*") as contacts, \
                bus_tap(amqp_url, cleanup_bus, "call.event.v1.*") as calls:
            await ami.send(answered[:cut])
            states = [json.loads((await calls.next(15)).body)["state"] for _ in range(2)]
            assert states == ["ringing", "answered"]
            await asyncio.sleep(0.5)  # the journal's writer saves the call right after its events
            kill(first)
            await ami.send(answered[cut:])  # the hangup, while nobody listens
            await ami.send(gap[:gap_cut])  # a whole call's start, while nobody listens
            second_run = await asyncio.to_thread(spawn, env, tmp_path / "telephony.log")
            try:
                await ami.wait_for_login(2, timeout=60)
                first_contact = json.loads((await contacts.next(30)).body)
                assert first_contact["idempotency_key"] == f"pbx:{answered_id}"
                call = first_contact["contact"]["call"]
                assert (call["outcome"], call["agent"]) == ("answered", "101")
                await asyncio.sleep(0.5)  # the channels of the call that started in the gap are taken in
                await ami.send(gap[gap_cut:])
                second = json.loads((await contacts.next(30)).body)
                assert second["idempotency_key"] == f"pbx:{gap_id}"
                assert second["contact"]["call"]["caller"] == "+79161230102"
                await contacts.assert_empty(1.0)
            finally:
                kill(second_run)
    finally:
        kill(first)


async def test_the_standby_takes_over_the_calls_of_a_killed_leader(
        ami: FakeAmiServer, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> None:
    """Two replicas: the AMI session's holder is killed in the middle of a call; the standby takes the PBX's
    lease, and with it the call from the journal, and makes the call's one contact when it hangs up."""
    database_url = await asyncio.to_thread(migrated_sqlite, tmp_path)
    ports = [free_port(), free_port()]
    envs = [dict(env_for(amqp_url, cleanup_bus, ami, database_url, port)) for port in ports]
    pbx = ScriptedPbx()
    call_id, events = pbx.direct_call("+79161230103", "103")
    cut = _until_first_hangup(events)
    leader = await asyncio.to_thread(spawn, envs[0], tmp_path / "leader.log")
    standby = None
    try:
        await ami.wait_for_login(1, timeout=60)
        await wait_healthy(ports[0])
        standby = await asyncio.to_thread(spawn, envs[1], tmp_path / "standby.log")
        await wait_healthy(ports[1])
        async with bus_tap(amqp_url, cleanup_bus, "contact.received.v1.*") as contacts, \
                bus_tap(amqp_url, cleanup_bus, "call.event.v1.*") as calls:
            await ami.send(events[:cut])
            states = [json.loads((await calls.next(15)).body)["state"] for _ in range(2)]
            assert states == ["ringing", "answered"]
            await asyncio.sleep(0.5)  # the journal's writer saves the call right after its events
            kill(leader)
            await ami.wait_for_login(2, timeout=30)  # the standby, once the lease is free
            await asyncio.sleep(0.5)  # CoreShowChannels: the call's channels are still up
            await ami.send(events[cut:])
            contact = json.loads((await contacts.next(30)).body)
            assert contact["idempotency_key"] == f"pbx:{call_id}"
            assert (contact["contact"]["call"]["outcome"], contact["contact"]["call"]["agent"]) == ("answered", "103")
            await contacts.assert_empty(1.0)
    finally:
        kill(leader)
        if standby is not None:
            kill(standby)
