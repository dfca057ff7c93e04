"""Issue 15, finding 9: a forged ``From`` with a known client's address rated, closed or reopened their ticket.

The attack goes through the arrival code as a routed e-mail contact would: a mail whose sender authentication
fails (or, when the installation says so, gives no verdict) is kept on the ticket and flagged to the agent, and
the rating or the closing/reopening word it carries waits for an agent.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from priyom_contracts import AuthVerdict, ContactRouted, MatchKind, SenderAuthentication, ThreadHint
from priyom_tickets import sender_trust
from priyom_tickets.arrivals import register_contact

from .test_satisfaction import close

AGENT = {"Authorization": "Bearer agent-token"}
FAILED = SenderAuthentication(spf=AuthVerdict.FAIL, dkim=AuthVerdict.NONE, dmarc=AuthVerdict.FAIL,
                              authority="mx.priyom.test")
PROVEN = SenderAuthentication(spf=AuthVerdict.PASS, dkim=AuthVerdict.PASS, dmarc=AuthVerdict.PASS,
                              authority="mx.priyom.test")


def mail(make_routed, client: uuid.UUID, number: str, body: str, verdict: bool | None) -> ContactRouted:
    """A routed e-mail from the client's address naming the ticket, with the given sender verdict."""
    event = make_routed(client_id=client, channel="email", first_contact=False, body=body,
                        key=f"<{uuid.uuid4()}@mail.example.ru>", thread=ThreadHint(ticket_number=number))
    auth = {True: PROVEN, False: FAILED, None: None}[verdict]
    contact = event.contact.model_copy(update={"sender_authenticated": verdict, "sender_auth": auth})
    return event.model_copy(update={"contact": contact})


async def detail(tickets, number: str) -> dict:
    response = await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)
    assert response.status_code == 200, response.text
    return response.json()


async def resolved_ticket(tickets, make_routed, client: uuid.UUID) -> str:
    number = (await tickets.register(make_routed(client_id=client, channel="email", first_contact=False))).number
    for action, extra in (("accept", {}), ("resolve", {"decision": "fixed"})):
        response = await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=AGENT,
                                             json={"action": action, **extra})
        assert response.status_code == 200, response.text
    return number


async def test_a_forged_sender_cannot_rate_the_victims_ticket(tickets, make_routed) -> None:
    client = uuid.uuid4()
    number = (await tickets.register(make_routed(client_id=client, channel="email", first_contact=False))).number
    await close(tickets, number)

    forged = mail(make_routed, client, number, "1 ужасно", verdict=False)
    await register_contact(tickets.database.sessions, tickets.inbox, forged, tickets.policy)

    ticket = await detail(tickets, number)
    assert ticket["satisfaction"] is None  # not rated
    last = ticket["messages"][-1]
    assert (last["body_text"], last["sender_flag"]) == ("1 ужасно", "sender_unproven")  # kept, flagged
    assert last["sender_auth"]["authenticated"] is False and last["sender_auth"]["dmarc"] == "fail"
    flag = ticket["history"][-1]
    assert flag["action"] == "sender_unproven"
    assert flag["details"].items() >= {"withheld": "rate", "rating": 1, "claimed": "anna@example.ru"}.items()

    # The real client, proven by DKIM/DMARC, still rates it (their first rating counts).
    real = mail(make_routed, client, number, "5", verdict=True)
    await register_contact(tickets.database.sessions, tickets.inbox, real, tickets.policy)
    ticket = await detail(tickets, number)
    assert ticket["satisfaction"]["rating"] == 5
    assert ticket["messages"][-1]["sender_flag"] is None


@pytest.mark.parametrize("body", ["Спасибо, проблема решена", "не решено"])
async def test_a_forged_sender_cannot_close_or_reopen_a_resolved_ticket(tickets, make_routed, body: str) -> None:
    client = uuid.uuid4()
    number = await resolved_ticket(tickets, make_routed, client)

    forged = mail(make_routed, client, number, body, verdict=False)
    await register_contact(tickets.database.sessions, tickets.inbox, forged, tickets.policy)

    ticket = await detail(tickets, number)
    assert ticket["status"] == "resolved"  # neither closed nor reopened: the agent decides
    assert ticket["messages"][-1]["sender_flag"] == "sender_unproven"
    flag = ticket["history"][-1]
    assert flag["action"] == "sender_unproven" and flag["details"]["withheld"] in ("close", "reopen")


async def test_a_proven_sender_closes_as_before(tickets, make_routed) -> None:
    client = uuid.uuid4()
    number = await resolved_ticket(tickets, make_routed, client)
    real = mail(make_routed, client, number, "Спасибо, всё работает", verdict=True)
    await register_contact(tickets.database.sessions, tickets.inbox, real, tickets.policy)
    assert (await detail(tickets, number))["status"] == "closed"


async def test_mail_without_a_verdict_follows_the_setting(tickets, make_routed) -> None:
    client = uuid.uuid4()
    trusted = await resolved_ticket(tickets, make_routed, client)
    silent = mail(make_routed, client, trusted, "не решено", verdict=None)
    await register_contact(tickets.database.sessions, tickets.inbox, silent, tickets.policy)
    ticket = await detail(tickets, trusted)
    assert ticket["status"] == "open"  # the default keeps what small installations had: it reopens
    assert ticket["messages"][-1]["sender_flag"] is None

    strict = replace(tickets.policy, trust_mail_without_verdict=False)
    held = await resolved_ticket(tickets, make_routed, client)
    silent = mail(make_routed, client, held, "не решено", verdict=None)
    await register_contact(tickets.database.sessions, tickets.inbox, silent, strict)
    ticket = await detail(tickets, held)
    assert ticket["status"] == "resolved"
    assert ticket["messages"][-1]["sender_flag"] == "sender_unproven"


async def test_a_forged_first_mail_is_a_flagged_ticket(tickets, make_routed) -> None:
    forged = mail(make_routed, uuid.uuid4(), "2026-999999", "Срочно смените реквизиты", verdict=False)
    created = await tickets.register(forged)
    ticket = await detail(tickets, created.number)
    assert ticket["messages"][0]["sender_flag"] == "sender_unproven"
    assert [h["action"] for h in ticket["history"]][:2] == ["registered", "sender_unproven"]


def test_only_an_unproven_claim_of_a_known_address_is_flagged(make_routed) -> None:
    client = uuid.uuid4()
    failing = mail(make_routed, client, "2026-000001", "5", verdict=False)
    assert sender_trust.unproven(failing)
    new_card = failing.model_copy(update={"client": failing.client.model_copy(update={"match": MatchKind.NEW})})
    assert not sender_trust.unproven(new_card)  # nobody's address was claimed
    assert not sender_trust.unproven(mail(make_routed, client, "2026-000001", "5", verdict=True))
    silent = mail(make_routed, client, "2026-000001", "5", verdict=None)
    assert not sender_trust.unproven(silent)
    assert sender_trust.unproven(silent, trust_without_verdict=False)
    web = make_routed(client_id=client, first_contact=False)  # the web form gives no verdict: not mail
    assert not sender_trust.unproven(web, trust_without_verdict=False)
    assert sender_trust.screen("close") == (None, {"withheld": "close"})
    assert sender_trust.screen("customer_replied") == ("customer_replied", {})
