"""Calls from the PBX to tickets through every real process: a missed call becomes a ticket with a call-back
activity, an answered one a ticket with the call's details, each exactly once.

The PBX is the fake AMI server (``priyom_testing.ami_server``); intake-telephony, identity, router and
tickets run as the processes ``make up`` starts.
"""

from __future__ import annotations

import random

import httpx
import pytest

from priyom_contracts import contact_id_for
from priyom_testing.ami_server import FakeAmiServer
from priyom_testing.calls import bridge
from priyom_testing.scripted_pbx import ScriptedPbx
from priyom_testing.stack import Stack

from .test_pipeline import wait_ticket

pytestmark = pytest.mark.e2e


def contact_of(linkedid: str) -> str:
    """The contact id intake-telephony gives a call (``INTAKE_TELEPHONY_PBX_ID`` is ``pbx`` by default)."""
    return str(contact_id_for(f"pbx:{linkedid}"))


async def test_missed_and_answered_calls_become_tickets(stack: Stack) -> None:
    pbx = ScriptedPbx()
    missed_from = f"+7916{random.randrange(10**7):07d}"
    answered_from = f"+7916{random.randrange(10**7):07d}"
    missed_id, missed = pbx.queue_call(missed_from, ["101", "102"], answered_by=None, abandon=True)
    answered_id, answered = pbx.direct_call(answered_from, "103", caller_name="Вера Котова",
                                            recording="/var/spool/asterisk/monitor/in-103.wav")
    async with FakeAmiServer() as ami, bridge(stack, ami, name="telephony-calls"):
        await ami.send(missed + answered)
        async with httpx.AsyncClient(timeout=10) as client:
            abandoned = await wait_ticket(client, stack, contact_of(missed_id), timeout=60)
            talked = await wait_ticket(client, stack, contact_of(answered_id), timeout=60)

    assert abandoned["channel"] == "phone" and abandoned["subject"] == f"Abandoned call from {missed_from}"
    call_backs = [a for a in abandoned["activities"] if a["kind"] == "call_back"]
    assert len(call_backs) == 1 and call_backs[0]["title"].startswith(f"Call back {missed_from}: abandoned call")
    assert talked["subject"] == f"Call from {answered_from}"
    assert not [a for a in talked["activities"] if a["kind"] == "call_back"]
    body = next(m["body_text"] for m in talked["messages"] if m["direction"] == "inbound")
    assert "Agent: 103." in body and "Recording: /var/spool/asterisk/monitor/in-103.wav" in body
