"""From a caller's pop-up, through every real process: the agent opens the call's ticket while the call goes on,
and the call's contact at hangup joins it; or the agent opens the caller's open ticket, and the call joins that
one. No call makes a ticket of its own beside the one the agent chose.

The PBX is the fake AMI server; intake-telephony (a bridge process), identity, router and tickets run as ``make
up`` starts them. The agent's requests go to intake-telephony with their own token, as tickets passes them on
from the console (``POST /api/v1/calls/{call_id}/ticket``; the console's side: test_popup_ticket_browser.py).
"""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from priyom_testing.ami_server import FakeAmiServer
from priyom_testing.calls import bridge
from priyom_testing.scripted_pbx import ScriptedPbx
from priyom_testing.stack import Stack

from .test_calls import contact_of
from .test_pipeline import count_tickets, wait_ticket
from .test_popup import known_client

pytestmark = pytest.mark.e2e


async def test_the_call_joins_the_ticket_the_agent_opened_or_chose_from_the_pop_up(stack: Stack) -> None:
    digits = f"{random.randrange(10**7):07d}"
    extension = f"6{random.randrange(10**4):04d}"
    earlier, token = await known_client(stack, digits, extension)
    agent = {"Authorization": f"Bearer {token}"}
    pbx = ScriptedPbx()
    new_call, new_events = pbx.direct_call(f"8916{digits}", extension, caller_name="Kotova V.")
    chosen_call, chosen_events = pbx.direct_call(f"8916{digits}", extension, caller_name="Kotova V.")
    rings = next(i for i, e in enumerate(new_events) if e.get("DialStatus") == "RINGING") + 1
    chosen_rings = next(i for i, e in enumerate(chosen_events) if e.get("DialStatus") == "RINGING") + 1

    async with FakeAmiServer() as ami, bridge(stack, ami, name="telephony-call-ticket") as port, \
            httpx.AsyncClient(timeout=30) as client:
        telephony = f"http://127.0.0.1:{port}/api/v1/calls"

        async def ask(call_id: str, body: dict) -> httpx.Response:
            for _ in range(100):  # the bridge follows the ringing a moment after the PBX sent it
                answer = await client.post(f"{telephony}/{call_id}/ticket", headers=agent,
                                           json={"extension": extension, **body})
                if answer.status_code != 404:
                    return answer
                await asyncio.sleep(0.1)
            return answer

        # 1. A new ticket while the phone rings: registered at once, the call's details follow at hangup.
        await ami.send(new_events[:rings])
        opened = await ask(new_call, {"new": True})
        assert opened.status_code == 200, opened.text
        during = await wait_ticket(client, stack, opened.json()["contact_id"], timeout=60)
        assert during["number"] != earlier["number"] and during["client_id"] == earlier["client_id"]
        assert during["channel"] == "phone"
        await ami.send(new_events[rings:])
        after = await wait_ticket(client, stack, contact_of(new_call), timeout=60)
        assert after["number"] == during["number"], "the call's contact continued the ticket opened for it"
        inbound = [m["body_text"] for m in after["messages"] if m["direction"] == "inbound"]
        assert len(inbound) == 2 and any(f"Agent: {extension}." in body for body in inbound), inbound

        # 2. The caller's open ticket, chosen from the pop-up: the next call joins it.
        await ami.send(chosen_events[:chosen_rings])
        chosen = await ask(chosen_call, {"number": earlier["number"]})
        assert chosen.status_code == 200, chosen.text
        await ami.send(chosen_events[chosen_rings:])
        joined = await wait_ticket(client, stack, contact_of(chosen_call), timeout=60)
        assert joined["number"] == earlier["number"]

        assert await count_tickets(client, stack, client_id=earlier["client_id"]) == 2
