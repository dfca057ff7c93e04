"""A caller pop-up from the outside: a known caller's phone rings and the agent's console shows their card
and open ticket, over a real WebSocket to the real tickets process.

The client becomes known the way customers do (a web form, through identity, router and tickets). The call
comes from the fake AMI server through a real intake-telephony process (the whole path), and once more from
the stand-in that publishes only what the bridge publishes (see :mod:`priyom_testing.calls`).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from priyom_contracts import CallState
from priyom_testing.ami_server import FakeAmiServer
from priyom_testing.calls import TelephonyStandIn, bridge
from priyom_testing.scripted_pbx import ScriptedPbx
from priyom_testing.stack import Stack

from .test_pipeline import submit, wait_ticket

pytestmark = pytest.mark.e2e


async def known_client(stack: Stack, digits: str, extension: str) -> tuple[dict, str]:
    """A client made by a web form (its ticket), the form's phone confirmed by an agent on ``extension`` (their
    token)."""
    async with httpx.AsyncClient(timeout=10) as client:
        typed = f"8 (916) {digits[:3]}-{digits[3:5]}-{digits[5:]}"
        form = await submit(client, stack, name="Вера Котова", phone=typed, subject="Касса не печатает чеки",
                            message="После обновления касса не печатает чеки")
        assert form.status_code == 202, form.text
        ticket = await wait_ticket(client, stack, form.json()["contact_id"])
        # The agent works in the team the router gave the ticket ("service" by day, "on-duty" after hours):
        # a pop-up lists only the tickets its agent may see.
        agent = await client.post(f"{stack.url('tickets')}/api/v1/staff", headers=stack.admin_headers,
                                  json={"name": f"Агент {extension}", "role": "agent", "teams": [ticket["team"]],
                                        "extension": extension})
        assert agent.status_code == 201, agent.text
        # A phone typed into a form is a claim and fills no pop-up (issue 15): an agent confirms it first.
        cards = f"{stack.url('identity')}/api/v1/clients/{ticket['client_id']}"
        card = (await client.get(cards, headers=stack.admin_headers)).json()
        phone = next(i for i in card["identifiers"] if i["kind"] == "phone")
        confirmed = await client.post(f"{cards}/identifiers/{phone['id']}/confirm",
                                      headers={"Authorization": f"Bearer {agent.json()['token']}"})
        assert confirmed.status_code == 200, confirmed.text
    return ticket, agent.json()["token"]


async def test_a_pbx_call_pops_up_on_the_ringing_agent_s_console(stack: Stack) -> None:
    digits = f"{random.randrange(10**7):07d}"
    extension = f"6{random.randrange(10**4):04d}"
    ticket, token = await known_client(stack, digits, extension)
    linkedid, events = ScriptedPbx().direct_call(f"8916{digits}", extension, caller_name="Kotova V.")
    rings = next(i for i, e in enumerate(events) if e.get("DialStatus") == "RINGING") + 1
    url = await asyncio.to_thread(stack.console_url, extension, token)
    async with FakeAmiServer() as ami, bridge(stack, ami), connect(url) as console:
        await ami.send(events[:rings])
        popup = json.loads(await asyncio.wait_for(console.recv(), 15))
        await ami.send(events[rings:])
        progress = [json.loads(await asyncio.wait_for(console.recv(), 15)) for _ in range(2)]

    assert popup["type"] == "incoming_call" and popup["call_id"] == linkedid
    assert popup["caller_number"] == f"+7916{digits}" and popup["caller_name"] == "Kotova V."
    assert popup["client"] is not None and popup["client"]["id"] == ticket["client_id"]
    assert popup["first_contact"] is False
    assert ticket["number"] in [t["number"] for t in popup["open_tickets"]]
    assert progress == [{"type": "call_answered", "call_id": linkedid}, {"type": "call_ended", "call_id": linkedid}]


async def test_known_caller_pops_up_on_the_ringing_agent_s_console(stack: Stack) -> None:
    digits = f"{random.randrange(10**7):07d}"
    phone = f"+7916{digits}"
    extension = f"7{random.randrange(10**4):04d}"
    ticket, token = await known_client(stack, digits, extension)
    amqp_url = stack.env.get("AMQP_URL", os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"))
    call_id = f"{time.time():.6f}"
    url = await asyncio.to_thread(stack.console_url, extension, token)
    async with TelephonyStandIn(amqp_url, stack.env["PRIYOM_BUS_PREFIX"]) as telephony, connect(url) as console:
        started = time.perf_counter()
        await telephony.ring(call_id, phone, extension, caller_name="KOTOVA V")
        popup = json.loads(await asyncio.wait_for(console.recv(), 15))
        elapsed_ms = (time.perf_counter() - started) * 1000
        await telephony.publish(call_id, CallState.ANSWERED, phone, extension)
        answered = json.loads(await asyncio.wait_for(console.recv(), 15))
        await telephony.publish(call_id, CallState.ENDED, phone, extension)
        ended = json.loads(await asyncio.wait_for(console.recv(), 15))

    assert popup["type"] == "incoming_call" and popup["call_id"] == call_id
    assert popup["caller_number"] == phone and popup["caller_name"] == "KOTOVA V"
    assert popup["client"] is not None and popup["client"]["id"] == ticket["client_id"]
    assert popup["first_contact"] is False  # the form made a ticket: this caller is known
    opened = {"number": ticket["number"], "status": "new", "subject": "Касса не печатает чеки"}
    assert opened in popup["open_tickets"]
    assert popup["last_contacts"][0]["ticket_number"] == ticket["number"]
    assert popup["last_contacts"][0]["channel"] == "web"
    assert elapsed_ms < 5000, f"pop-up took {elapsed_ms:.0f} ms"  # the latency target is bench/popup.py's
    assert answered == {"type": "call_answered", "call_id": call_id}
    assert ended == {"type": "call_ended", "call_id": call_id}
