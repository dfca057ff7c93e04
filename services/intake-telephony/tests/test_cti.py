"""The generic CTI webhook (Zammad's shape) for PBXes without AMI: the same call events and contacts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .conftest import CTI_SECRET, Telephony, started, telephony_settings


@pytest.fixture
async def webhook_only(cleanup_bus: str, amqp_url: str) -> AsyncIterator[Telephony]:
    """The service without AMI_HOST: the CTI webhook alone serves calls."""
    async for service in started(telephony_settings(amqp_url, cleanup_bus, None), amqp_url, cleanup_bus):
        yield service


async def test_a_form_encoded_call_pops_up_and_becomes_a_contact(webhook_only: Telephony) -> None:
    client = webhook_only.client
    health = await client.get("/health")
    assert health.json()["checks"] == {"broker": True}  # no AMI check when AMI is off
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
    assert IntakeTelephonySettings(cti_secret="s").cti_secret is not None
    assert (settings.ami_host, settings.ami_secret, settings.cti_secret) == (None, None, None)
