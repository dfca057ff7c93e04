"""The service against the fake AMI server and the real RabbitMQ: each call publishes the right call events
and exactly one contact; reconnects; click-to-call reaches the PBX."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from priyom_intake_telephony.settings import IntakeTelephonySettings
from priyom_testing.ami_server import FakeAmiServer, load_transcript
from priyom_testing.scripted_pbx import ScriptedPbx

from .conftest import ADMIN, Telephony


def states(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(e["state"], e["agent"]) for e in events]


async def test_a_direct_call_pops_up_then_becomes_one_contact(telephony: Telephony, ami: FakeAmiServer) -> None:
    ami.split_utf8 = True  # every event cut inside a Cyrillic character: the name must survive
    linkedid, events = ScriptedPbx().direct_call("8 (916) 123-45-67", "101", caller_name="Иван Петров",
                                                 recording="/var/spool/asterisk/monitor/in-101.wav")
    await ami.send(events)
    ringing, answered, ended = await telephony.call_events(3)
    assert states([ringing, answered, ended]) == [("ringing", "101"), ("answered", "101"), ("ended", "101")]
    assert ringing["call_id"] == linkedid and ringing["caller"] == "+79161234567"
    assert ringing["caller_name"] == "Иван Петров" and ringing["client"] is None  # no identity: unknown caller
    assert ringing["direction"] == "inbound"
    contact = await telephony.contact()
    call = contact["contact"]["call"]
    assert (call["outcome"], call["agent"], call["duration_s"], call["call_back"]) == ("answered", "101", 42, False)
    assert call["recording"] == "/var/spool/asterisk/monitor/in-101.wav"
    assert contact["contact"]["sender"] == {"name": "Иван Петров", "phone": "+79161234567", "email": None,
                                            "messenger": None, "organisation": None}
    assert contact["idempotency_key"] == f"pbx:{linkedid}"
    await telephony.contacts.assert_empty()
    await telephony.calls.assert_empty()


async def test_a_queue_call_pops_up_at_every_ringing_agent(telephony: Telephony, ami: FakeAmiServer) -> None:
    _, events = ScriptedPbx().queue_call("+74951234567", ["101", "102", "103"], answered_by="102")
    await ami.send(events)
    received = await telephony.call_events(5)
    assert sorted(states(received[:3])) == [("ringing", "101"), ("ringing", "102"), ("ringing", "103")]
    assert states(received[3:]) == [("answered", "102"), ("ended", "102")]
    call = (await telephony.contact())["contact"]["call"]
    assert (call["queue"], call["agent"], call["outcome"]) == ("support", "102", "answered")
    await telephony.contacts.assert_empty()


async def test_missed_and_abandoned_calls_ask_for_a_call_back(telephony: Telephony, ami: FakeAmiServer) -> None:
    pbx = ScriptedPbx()
    await ami.send(pbx.direct_call("+79161230001", "101", answered=False)[1])
    assert states(await telephony.call_events(2)) == [("ringing", "101"), ("missed", None)]
    missed = (await telephony.contact())["contact"]
    assert (missed["call"]["outcome"], missed["call"]["call_back"]) == ("missed", True)
    assert missed["subject"] == "Missed call from +79161230001"
    await ami.send(pbx.queue_call("+79161230002", ["101", "102"], answered_by=None, abandon=True)[1])
    assert sorted(states(await telephony.call_events(3))) == [("missed", None), ("ringing", "101"),
                                                               ("ringing", "102")]
    abandoned = (await telephony.contact())["contact"]["call"]
    assert (abandoned["outcome"], abandoned["call_back"], abandoned["queue"]) == ("abandoned", True, "support")
    await telephony.contacts.assert_empty()


async def test_a_transferred_call_is_one_contact(telephony: Telephony, ami: FakeAmiServer) -> None:
    await ami.send(ScriptedPbx().transferred_call("+79161230003", "101", "102")[1])
    assert states(await telephony.call_events(5)) == [("ringing", "101"), ("answered", "101"), ("ringing", "102"),
                                                      ("answered", "102"), ("ended", "102")]
    call = (await telephony.contact())["contact"]["call"]
    assert (call["agents"], call["agent"]) == (["101", "102"], "102")
    await telephony.contacts.assert_empty()


async def test_reconnects_after_the_pbx_drops_the_connection(telephony: Telephony, ami: FakeAmiServer) -> None:
    health = await telephony.client.get("/health")
    assert health.json()["checks"] == {"broker": True, "database": True, "ami": True}
    await ami.drop_clients()
    await ami.wait_for_login(2, timeout=15)
    for _ in range(50):  # the login callback runs just after the server counted the login
        if (await telephony.client.get("/api/v1/ami")).json()["state"] == "connected":
            break
        await asyncio.sleep(0.05)
    assert (await telephony.client.get("/api/v1/ami")).json() == {"state": "connected", "logins": 2}
    await ami.send(ScriptedPbx().direct_call("+79161230004", "103")[1])
    assert states(await telephony.call_events(3)) == [("ringing", "103"), ("answered", "103"), ("ended", "103")]


async def test_click_to_call_reaches_the_pbx(telephony: Telephony, ami: FakeAmiServer) -> None:
    refused = await telephony.client.post("/api/v1/calls", json={"extension": "101", "number": "+79161234567"})
    assert refused.status_code == 401
    response = await telephony.client.post("/api/v1/calls", headers=ADMIN,
                                           json={"extension": "101", "number": "+7 916 123-45-67"})
    assert response.status_code == 202, response.text
    originate = [a for a in ami.actions if a.get("Action") == "Originate"]
    assert len(originate) == 1
    assert {k: originate[0][k] for k in ("Channel", "Exten", "Context", "ActionID")} == {
        "Channel": "PJSIP/101", "Exten": "+79161234567", "Context": "from-internal",
        "ActionID": response.json()["action_id"]}
    bad = await telephony.client.post("/api/v1/calls", headers=ADMIN, json={"extension": "101", "number": "9; Hangup"})
    assert bad.status_code == 422


async def test_the_outbound_call_of_a_click_to_call_is_a_contact(telephony: Telephony, ami: FakeAmiServer) -> None:
    await ami.send(ScriptedPbx().originated_call("101", "+79161230005")[1])
    assert states(await telephony.call_events(2)) == [("answered", "101"), ("ended", "101")]
    contact = (await telephony.contact())["contact"]
    assert (contact["call"]["direction"], contact["call"]["agent"], contact["sender"]["phone"]) == (
        "outbound", "101", "+79161230005")
    assert contact["call"]["call_back"] is False
    assert (contact["call"]["caller"], contact["call"]["called"]) == ("101", "+79161230005")


async def test_a_call_that_ended_during_a_reconnect_is_still_published(telephony: Telephony,
                                                                        ami: FakeAmiServer) -> None:
    pbx = ScriptedPbx()
    _, ended_in_gap = pbx.direct_call("+79161230006", "104", answered=False)
    _, goes_on = pbx.direct_call("+79161230007", "105")
    ringing_at = 4  # Newchannel, Newchannel, DialBegin, Newstate: the phones ring
    await ami.send(ended_in_gap[:ringing_at] + goes_on[:ringing_at])
    assert sorted(states(await telephony.call_events(2))) == [("ringing", "104"), ("ringing", "105")]
    await ami.drop_clients()
    await ami.send(ended_in_gap[ringing_at:])  # nobody is connected: these are lost, as on a real PBX
    await ami.wait_for_login(2, timeout=15)
    # After the re-login the service asks which channels still exist; the first call has none left.
    assert states(await telephony.call_events(1)) == [("missed", None)]
    missed = (await telephony.contact())["contact"]["call"]
    assert (missed["outcome"], missed["call_back"], missed["caller"]) == ("missed", True, "+79161230006")
    await ami.send(goes_on[ringing_at:])  # the call that survived the gap goes on as usual
    assert states(await telephony.call_events(2)) == [("answered", "105"), ("ended", "105")]
    assert (await telephony.contact())["contact"]["call"]["outcome"] == "answered"


async def test_a_call_between_two_extensions_pops_up_but_is_no_contact(telephony: Telephony, ami: FakeAmiServer,
                                                                        corpus_dir: Path) -> None:
    """A colleague calling is not a customer contact (Zammad logs it, opens no ticket): identity would refuse
    the extension as a phone number, so such a contact could only ever be a dead letter."""
    await ami.send(load_transcript(corpus_dir / "ami/sweeney-asterisk-mqtt/answered-internal.raw"))
    assert states(await telephony.call_events(3)) == [("ringing", "1986"), ("answered", "1986"), ("ended", "1986")]
    await telephony.contacts.assert_empty()
    assert "internal_contacts" not in IntakeTelephonySettings.model_fields


async def test_a_picked_up_call_leaves_nothing_to_end_after_a_reconnect(telephony: Telephony, ami: FakeAmiServer,
                                                                        corpus_dir: Path) -> None:
    """The recorded star-code pickup: 150010003 takes the call ringing at 150010002 (a colleague's call, so no
    contact). The picking-up phone's own call merged into the picked one, so the reconnect that follows finds
    no stray call to end as "missed"."""
    await ami.send(load_transcript(corpus_dir / "ami/voipgrid-cacofonisk/xfer_misc/star_pickup.json"))
    assert states(await telephony.call_events(4)) == [("ringing", "150010002"), ("ringing", "150010003"),
                                                      ("answered", "150010003"), ("ended", "150010003")]
    assert not telephony.parts.tracker.calls  # type: ignore[attr-defined]
    await ami.drop_clients()
    await ami.wait_for_login(2, timeout=15)
    await telephony.calls.assert_empty()
    await telephony.contacts.assert_empty()


async def test_the_call_back_of_an_abandoned_call_says_the_queue_only_the_abandon_named(
        telephony: Telephony, ami: FakeAmiServer) -> None:
    """A PBX that names the queue only in ``QueueCallerAbandon`` (no join, members rung by plain dials)."""
    _, events = ScriptedPbx().queue_call("+79161230008", ["101"], answered_by=None, abandon=True)
    await ami.send([e for e in events if e["Event"] not in {"QueueCallerJoin", "AgentCalled", "QueueCallerLeave"}])
    assert states(await telephony.call_events(2)) == [("ringing", "101"), ("missed", None)]
    contact = (await telephony.contact())["contact"]
    assert (contact["call"]["queue"], contact["call"]["outcome"], contact["call"]["call_back"]) == (
        "support", "abandoned", True)
    assert "Queue: support." in contact["body"]
