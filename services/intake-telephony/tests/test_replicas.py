"""Two replicas of intake-telephony on one PBX (issue 18): one AMI session, held by the replica holding the
PBX's lease; the other stands by (ready, its /health says so) and logs in once the first stops, taking over
the calls in progress; the CTI webhook's posts about one call may reach either replica."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from priyom_intake_telephony.store import migrate_database
from priyom_kit.pytest_plugin import create_pg_database, drop_pg_database
from priyom_testing.ami_server import FakeAmiServer
from priyom_testing.scripted_pbx import ScriptedPbx

from .conftest import ADMIN, CTI_SECRET, Telephony, migrated_sqlite, started, telephony_settings


async def test_one_ami_session_per_pbx_and_the_standby_takes_over(
        ami: FakeAmiServer, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> None:
    database_url = await asyncio.to_thread(migrated_sqlite, tmp_path)  # one database: one lease file
    settings = telephony_settings(amqp_url, cleanup_bus, ami, database_url)
    job = f"intake-telephony/ami/127.0.0.1:{ami.port}"

    async def role_of(service) -> str:  # type: ignore[no-untyped-def]
        health = await service.client.get("/health")
        assert health.status_code == 200, health.text
        return health.json()["jobs"][job]

    async with contextlib.AsyncExitStack() as first_stack:
        first = await first_stack.enter_async_context(contextlib.asynccontextmanager(started)(
            settings, amqp_url, cleanup_bus))
        await ami.wait_for_login()
        second_cm = contextlib.asynccontextmanager(started)(settings, amqp_url, cleanup_bus)
        async with second_cm as second:
            await asyncio.sleep(2.0)  # several lease retries of the second replica
            assert ami.logins == 1
            assert ami.clients == 1
            assert await role_of(first) == "leader"
            assert await role_of(second) == "standby"
            # A click-to-call reaching the standby is dialled on the leader's session.
            await click_to_call(second, ami, "101")

            await first_stack.aclose()
            loop = asyncio.get_running_loop()
            stopped_at = loop.time()
            await ami.wait_for_login(2, timeout=15)
            print(f"standby logged in to AMI {loop.time() - stopped_at:.2f} s after the leader stopped")
            # The server counts the login when it answers it; the replica reads the answer a moment later.
            for _ in range(50):
                if (await second.client.get("/health")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert await role_of(second) == "leader"
            assert ami.clients == 1
            assert (await second.client.get("/health")).json()["checks"]["ami"] is True
            await click_to_call(second, ami, "102")


async def test_a_standby_names_the_ticket_of_a_call_on_the_leaders_session(
        ami: FakeAmiServer, cleanup_bus: str, amqp_url: str, tmp_path: Path) -> None:
    """The pop-up's "this call is about ticket N" reaching the standby: the call lives in the tracker of the
    AMI session's holder, which takes the request over the bus; the call's contact names the ticket."""
    database_url = await asyncio.to_thread(migrated_sqlite, tmp_path)
    settings = telephony_settings(amqp_url, cleanup_bus, ami, database_url)
    pbx = ScriptedPbx()
    call_id, events = pbx.direct_call("+79161230104", "104")
    cut = next(i for i, e in enumerate(events) if e["Event"] == "Hangup")
    async with contextlib.asynccontextmanager(started)(settings, amqp_url, cleanup_bus) as first:
        await ami.wait_for_login()
        async with contextlib.asynccontextmanager(started)(settings, amqp_url, cleanup_bus) as second:
            await ami.send(events[:cut])
            assert [e["state"] for e in await first.call_events(2)] == ["ringing", "answered"]
            path = f"/api/v1/calls/{call_id}/ticket"
            elsewhere = await second.client.post(path, headers=ADMIN, json={"extension": "105", "number": "2026-000777"})
            assert elsewhere.status_code == 403, "the holder checks the call reached the extension"
            unknown = await second.client.post("/api/v1/calls/nope/ticket", headers=ADMIN,
                                               json={"extension": "104", "number": "2026-000777"})
            assert unknown.status_code == 404, unknown.text
            linked = await second.client.post(path, headers=ADMIN, json={"extension": "104", "number": "2026-000777"})
            assert linked.status_code == 200, linked.text
            assert linked.json() == {"call_id": call_id, "ticket_number": "2026-000777", "contact_id": None}
            await ami.send(events[cut:])
            contact = (await first.contact())["contact"]
            assert contact["thread"]["ticket_number"] == "2026-000777"
            assert (contact["call"]["outcome"], contact["call"]["agent"]) == ("answered", "104")


async def click_to_call(replica: Telephony, ami: FakeAmiServer, extension: str) -> None:
    """Click-to-call on ``replica``: answered 202 with the action id the PBX got an Originate with, once."""
    response = await replica.client.post("/api/v1/calls", headers=ADMIN,
                                         json={"extension": extension, "number": "+7 916 123-45-67"})
    assert response.status_code == 202, response.text
    sent = [a for a in ami.actions if a.get("ActionID") == response.json()["action_id"]]
    assert [(a["Action"], a["Channel"], a["Exten"]) for a in sent] == [
        ("Originate", f"PJSIP/{extension}", "+79161234567")]


async def test_any_replica_takes_any_webhook_post_of_a_call(cleanup_bus: str, amqp_url: str) -> None:
    """The PBX's posts about one call spread over two replicas (a load balancer), and the same post sent to
    both at once (its retry): one ringing per agent, the answer and the end once, one contact."""
    url = await create_pg_database()
    try:
        await asyncio.to_thread(migrate_database, url)
        settings = telephony_settings(amqp_url, cleanup_bus, None, url)
        form = {"content-type": "application/x-www-form-urlencoded"}
        call = "callId=rr-1&from=89161234567&to=74950000000&direction=in"
        async with contextlib.asynccontextmanager(started)(settings, amqp_url, cleanup_bus) as first, \
                contextlib.asynccontextmanager(started)(settings, amqp_url, cleanup_bus) as second:

            async def post(replica: Telephony, body: str) -> None:
                answer = await replica.client.post(f"/api/v1/cti/{CTI_SECRET}", content=body, headers=form)
                assert answer.status_code == 200, answer.text

            new_call = f"event=newCall&{call}&user%5B%5D=101&user%5B%5D=102"
            await asyncio.gather(post(first, new_call), post(second, new_call))
            await post(second, f"event=answer&{call}&answeringNumber=102")
            # The agent names the call's ticket on the replica that did not take the answer...
            linked = await first.client.post("/api/v1/calls/rr-1/ticket", headers=ADMIN,
                                             json={"extension": "102", "number": "2026-000321"})
            assert linked.status_code == 200, linked.text
            # ...and the replica that takes the hangup knows it.
            await post(second, f"event=hangup&{call}&cause=normalClearing")
            events = await first.call_events(4)
            assert sorted((e["state"], e["agent"]) for e in events[:2]) == [("ringing", "101"), ("ringing", "102")]
            assert [(e["state"], e["agent"]) for e in events[2:]] == [("answered", "102"), ("ended", "102")]
            contact = (await first.contact())["contact"]
            assert (contact["call"]["outcome"], contact["call"]["agent"]) == ("answered", "102")
            assert contact["thread"]["ticket_number"] == "2026-000321"
            await first.calls.assert_empty()
            await first.contacts.assert_empty()
    finally:
        await drop_pg_database(url)
