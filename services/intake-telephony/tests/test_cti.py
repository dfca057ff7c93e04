"""The generic CTI webhook (Zammad's shape) for PBXes without AMI: the same call events and contacts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from priyom_testing.staff_directory_peer import StaffDirectoryPeer

from .conftest import CTI_SECRET, Telephony, migrated_sqlite, started, telephony_settings


@pytest.fixture
async def webhook_only(cleanup_bus: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[Telephony]:
    """The service without AMI_HOST: the CTI webhook alone serves calls."""
    database_url = await asyncio.to_thread(migrated_sqlite, tmp_path)
    async for service in started(telephony_settings(amqp_url, cleanup_bus, None, database_url), amqp_url,
                                 cleanup_bus):
        yield service


#: Zammad's generic CTI as its documentation shows it (zammad/zammad-documentation, api/generic-cti/
#: newcall-event.rst, answer-event.rst, hangup-event.rst): the inbound newCall names the agents by their real
#: names, an outbound newCall is answered with the caller id to dial out with.
ZAMMAD_INBOUND = {"event": "newCall", "from": "493023125741", "to": "492214710334", "direction": "in",
                  "callId": "307fa962-de8d-4ffc-817b-7f6993204159", "user": ["Christopher Miller", "Emma Taylor"]}
ZAMMAD_OUTBOUND = {"event": "newCall", "from": "493023125741", "to": "492214710334", "direction": "out",
                   "callId": "f4ebd2be-7b9a-4d58-94c2-eb06a3c2ce76", "user": "Christopher Miller"}


SERVICE_CREDENTIAL = "telephony-service-credential"


@pytest.fixture
async def zammad_like(cleanup_bus: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[Telephony]:
    """The webhook with Zammad's CTI settings (a block list, an outgoing caller id) and tickets' staff
    directory, where Christopher Miller is on extension 101 and Emma Taylor has none."""
    database_url = await asyncio.to_thread(migrated_sqlite, tmp_path)
    async with StaffDirectoryPeer(SERVICE_CREDENTIAL, {"Christopher Miller": "101"}) as tickets:
        settings = telephony_settings(
            amqp_url, cleanup_bus, None, database_url, default_region="DE", PRIYOM_STAFF_URL=tickets.url,
            PRIYOM_SERVICE_TOKENS=json.dumps({"intake-telephony": SERVICE_CREDENTIAL}),
            cti_blocked_callers="+49 30 1234567, 0301112233", cti_outbound_caller_id="496990009111")
        async for service in started(settings, amqp_url, cleanup_bus):
            for _ in range(100):  # the directory is read in the background at start
                if service.parts.staff_directory.loaded:  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.05)
            assert tickets.reads >= 1
            yield service


async def test_zammads_names_and_queue_are_kept_and_answers_are_zammads(zammad_like: Telephony) -> None:
    client, headers = zammad_like.client, {"X-CTI-Secret": CTI_SECRET}
    new_call = await client.post("/api/v1/cti", json={**ZAMMAD_INBOUND, "queue": "support"}, headers=headers)
    assert (new_call.status_code, new_call.json()) == (200, {})  # Zammad answers an unblocked inbound call so
    ringing = await zammad_like.call_events(2)
    # Tickets knows Christopher Miller's extension (his console pops up); Emma Taylor stays a name.
    assert sorted(e["agent"] for e in ringing) == ["101", "Emma Taylor"]
    base = {k: ZAMMAD_INBOUND[k] for k in ("from", "to", "direction", "callId")}
    answer = await client.post("/api/v1/cti", json={**base, "event": "answer", "user": ["Emma Taylor"],
                                                    "answeringNumber": "Emma Taylor"}, headers=headers)
    hangup = await client.post("/api/v1/cti", json={**base, "event": "hangup", "cause": "normalClearing",
                                                    "answeringNumber": "Emma Taylor"}, headers=headers)
    assert (answer.json(), hangup.json()) == ({}, {})
    assert [(e["state"], e["agent"]) for e in await zammad_like.call_events(2)] == [
        ("answered", "Emma Taylor"), ("ended", "Emma Taylor")]
    call = (await zammad_like.contact())["contact"]["call"]
    assert (call["queue"], call["agent"], call["outcome"]) == ("support", "Emma Taylor", "answered")
    outbound = await client.post("/api/v1/cti", json=ZAMMAD_OUTBOUND, headers=headers)
    assert outbound.json() == {"action": "dial", "caller_id": "496990009111", "number": "492214710334"}
    wrong = await client.post("/api/v1/cti", json={**ZAMMAD_OUTBOUND, "direction": "inbound"}, headers=headers)
    assert wrong.status_code == 422


async def test_a_blocked_caller_is_rejected_as_zammad_does_and_leaves_no_trace(zammad_like: Telephony) -> None:
    client, headers = zammad_like.client, {"X-CTI-Secret": CTI_SECRET}
    blocked = {**ZAMMAD_INBOUND, "from": "030 1234567", "callId": "blocked-1"}
    reply = await client.post("/api/v1/cti", json=blocked, headers=headers)
    assert (reply.status_code, reply.json()) == (200, {"action": "reject", "reason": "busy"})
    # Zammad's PBX still posts the hangup of the call it refused: answered with nothing, published nothing.
    hangup = await client.post("/api/v1/cti", json={**blocked, "event": "hangup", "cause": "busy"},
                               headers=headers)
    assert (hangup.status_code, hangup.json()) == (200, {})
    # A hangup alone (the newCall went to an earlier run of the service) is left aside the same way.
    alone = await client.post("/api/v1/cti", json={**blocked, "event": "hangup", "callId": "blocked-2"},
                              headers=headers)
    assert (alone.status_code, alone.json()) == (200, {})
    await zammad_like.calls.assert_empty()
    await zammad_like.contacts.assert_empty()


async def test_a_form_encoded_call_pops_up_and_becomes_a_contact(webhook_only: Telephony) -> None:
    client = webhook_only.client
    health = await client.get("/health")
    assert health.json()["checks"] == {"broker": True, "database": True}  # no AMI check when AMI is off
    assert (await client.get("/api/v1/ami")).json()["state"] == "disabled"
    new_call = "event=newCall&from=89161234567&to=74950000000&direction=in&callId=zx-1&user%5B%5D=101&user%5B%5D=102"
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert (await client.post(f"/api/v1/cti/{CTI_SECRET}", content=new_call, headers=form)).status_code == 200
    ringing = await webhook_only.call_events(2)
    assert sorted((e["state"], e["agent"], e["caller"]) for e in ringing) == [
        ("ringing", "101", "+79161234567"), ("ringing", "102", "+79161234567")]
    answer = "event=answer&callId=zx-1&from=89161234567&to=74950000000&direction=in&answeringNumber=102"
    assert (await client.post(f"/api/v1/cti/{CTI_SECRET}", content=answer, headers=form)).status_code == 200
    hangup = "event=hangup&callId=zx-1&from=89161234567&to=74950000000&direction=in&cause=normalClearing"
    assert (await client.post(f"/api/v1/cti/{CTI_SECRET}", content=hangup, headers=form)).status_code == 200
    later = await webhook_only.call_events(2)
    assert [(e["state"], e["agent"], e["call_id"]) for e in later] == [("answered", "102", "zx-1"),
                                                                       ("ended", "102", "zx-1")]
    contact = (await webhook_only.contact())["contact"]
    assert (contact["call"]["outcome"], contact["call"]["agent"], contact["sender"]["phone"]) == (
        "answered", "102", "+79161234567")
    await webhook_only.contacts.assert_empty()


async def test_json_with_the_secret_in_a_header_and_a_missed_call(webhook_only: Telephony) -> None:
    client = webhook_only.client
    headers = {"X-CTI-Secret": CTI_SECRET}
    base = {"callId": "zx-2", "from": "+74957654321", "to": "74950000000", "direction": "in"}
    assert (await client.post("/api/v1/cti", json={**base, "event": "newCall", "user": "103"},
                               headers=headers)).status_code == 200
    assert (await client.post("/api/v1/cti", json={**base, "event": "hangup", "cause": "cancel"},
                              headers=headers)).status_code == 200
    events = await webhook_only.call_events(2)
    assert [(e["state"], e["agent"]) for e in events] == [("ringing", "103"), ("missed", None)]
    call = (await webhook_only.contact())["contact"]["call"]
    assert (call["outcome"], call["call_back"]) == ("missed", True)


async def test_a_wrong_secret_publishes_nothing(webhook_only: Telephony) -> None:
    client = webhook_only.client
    body = {"event": "newCall", "callId": "zx-3", "from": "+74957654321", "to": "1", "user": "101"}
    assert (await client.post("/api/v1/cti/not-the-secret", json=body)).status_code == 403
    assert (await client.post("/api/v1/cti", json=body, headers={"X-CTI-Secret": "nope"})).status_code == 403
    assert (await client.post("/api/v1/cti", json=body)).status_code == 403
    bad = await client.post(f"/api/v1/cti/{CTI_SECRET}", json={"event": "ring", "callId": "zx-4"})
    assert bad.status_code == 422
    too_big = await client.post(f"/api/v1/cti/{CTI_SECRET}", content=b"x" * 20_000)
    assert too_big.status_code == 413
    await webhook_only.calls.assert_empty()


def test_empty_values_turn_the_ami_and_the_webhook_off() -> None:
    from priyom_intake_telephony.settings import IntakeTelephonySettings

    settings = IntakeTelephonySettings(AMI_HOST="", AMI_SECRET="", cti_secret="  ")
    assert IntakeTelephonySettings(cti_secret="cti-secret-16-chars").cti_secret is not None
    assert (settings.ami_host, settings.ami_secret, settings.cti_secret) == (None, None, None)
