"""Satisfaction: the survey's answer from a channel, from the web form's link, or recorded by an agent."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from priyom_contracts import ThreadHint, contact_id_for
from priyom_kit.public_links import KEY_PARAM, link_key
from priyom_tickets import tables
from priyom_tickets.arrivals import Appended, register_contact
from priyom_tickets.satisfaction import parse_rating

from .conftest import LINK_SECRET, public_link

AGENT = {"Authorization": "Bearer agent-token"}


@pytest.mark.parametrize(("text", "expected"), [
    ("5", (5, None)),
    ("  4 из 5, спасибо!", (4, "спасибо!")),
    ("Оценка: 3 — долго ждали", (3, "долго ждали")),
    ("2/5", (2, None)),
    ("1. Никто не перезвонил", (1, "Никто не перезвонил")),
    ("10", None),
    ("6", None),
    ("0", None),
    ("Спасибо, 5", None),
    ("2026-000123 снова не работает", None),
    ("", None),
])
def test_survey_answers_are_read_strictly(text: str, expected) -> None:
    assert parse_rating(text) == expected


async def close(tickets, number: str) -> None:
    for action, extra in (("accept", {}), ("resolve", {"decision": "fixed"}), ("close", {})):
        response = await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=AGENT,
                                             json={"action": action, **extra})
        assert response.status_code == 200, response.text


async def test_a_rating_answered_on_the_channel_lands_on_the_closed_ticket(tickets, make_routed) -> None:
    client = uuid.uuid4()
    number = (await tickets.register(make_routed(client_id=client, channel="telegram",
                                                 thread=ThreadHint(external_thread_id="chat-7")))).number
    await close(tickets, number)
    closing = (await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)).json()["messages"][-1]
    assert "от 1 до 5" in closing["body_text"]  # the closing notice asks
    async with tickets.database.sessions() as session:
        sent = (await session.execute(select(tables.ticket_outbox.c.payload)
                                      .where(tables.ticket_outbox.c.event_type == "reply.outbound.v1"))).scalars()
        surveys = [p for p in sent if p["survey"]]
    assert [p["ticket_number"] for p in surveys] == [number]  # buttons 1-5 where the channel has them

    # A button press arrives as "4" naming the ticket; a typed answer in the same chat counts the same.

    answer = make_routed(client_id=client, channel="telegram", body="4, всё хорошо",
                         thread=ThreadHint(ticket_number=number))
    outcome, new = await register_contact(tickets.database.sessions, tickets.inbox, answer, tickets.policy)
    assert (outcome, new) == (Appended(number, str(answer.contact.contact_id)), True)
    detail = (await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)).json()
    assert (detail["satisfaction"]["rating"], detail["satisfaction"]["comment"]) == (4, "всё хорошо")
    assert detail["satisfaction"]["channel"] == "telegram"
    assert detail["messages"][-1]["body_text"] == "4, всё хорошо"
    assert detail["history"][-1]["action"] == "rated"

    # A second "1" is not a second rating: it is a new message, so a new ticket.
    later = make_routed(client_id=client, channel="telegram", body="1",
                        thread=ThreadHint(external_thread_id="chat-7"))
    again, _ = await register_contact(tickets.database.sessions, tickets.inbox, later, tickets.policy)
    assert again.number != number
    # Another client's "5" on a chat id that happens to match does not rate someone else's ticket.
    stranger = make_routed(channel="telegram", body="5", thread=ThreadHint(external_thread_id="chat-7"))
    theirs, _ = await register_contact(tickets.database.sessions, tickets.inbox, stranger, tickets.policy)
    assert theirs.number not in (number, again.number)


async def test_rating_through_the_api_and_the_public_link(tickets, make_routed) -> None:
    by_phone = await tickets.register(make_routed())
    path = f"/api/v1/tickets/{by_phone.number}/satisfaction"
    assert (await tickets.client.post(path, headers=AGENT, json={"rating": 5})).status_code == 409  # open
    await close(tickets, by_phone.number)
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "good"}, {"rating": 3, "comment": "x" * 2001}):
        assert (await tickets.client.post(path, headers=AGENT, json=bad)).status_code == 422
    rated = await tickets.client.post(path, headers=AGENT, json={"rating": 3, "comment": "Долго"})
    assert rated.status_code == 201, rated.text
    assert (rated.json()["rating"], rated.json()["channel"]) == (3, "telephony")
    assert (await tickets.client.post(path, headers=AGENT, json={"rating": 5})).status_code == 409  # first stands

    event = make_routed()
    from_form = await tickets.register(event)
    public = public_link(event.contact.contact_id, "satisfaction")
    assert (await tickets.client.post(public, json={"rating": 5})).status_code == 409
    await close(tickets, from_form.number)
    answered = await tickets.client.post(public, json={"rating": 5, "comment": "Спасибо"})
    assert answered.status_code == 201, answered.text
    assert answered.json()["channel"] == "web"
    assert (await tickets.client.post(public_link(uuid.uuid4(), "satisfaction"),
                                      json={"rating": 5})).status_code == 404


async def test_predictable_contact_id_opens_nothing_without_the_key(tickets, make_routed) -> None:
    """The attack: Telegram and phone contact ids are uuid5 of channel keys anyone can guess
    (``tg:<bot>:<update_id>``); with the id alone one read the status and rated the ticket before its owner."""
    guessed = contact_id_for("tg:7000000001:123456789")
    event = make_routed(contact_id=guessed)
    created = await tickets.register(event)
    await close(tickets, created.number)
    bare = f"/api/v1/contacts/{guessed}"
    for key in ("", f"?{KEY_PARAM}=", f"?{KEY_PARAM}={link_key(SecretStr('another-deployment-key'), guessed)}",
                f"?{KEY_PARAM}={link_key(LINK_SECRET, uuid.uuid4())}"):
        assert (await tickets.client.get(f"{bare}/ticket{key}")).status_code == 404
        assert (await tickets.client.post(f"{bare}/satisfaction{key}", json={"rating": 1})).status_code == 404
    # Staff look up without a key, but only the link's holder rates as the customer.
    assert (await tickets.client.get(f"{bare}/ticket", headers=AGENT)).json()["number"] == created.number
    assert (await tickets.client.post(f"{bare}/satisfaction", headers=AGENT, json={"rating": 1})).status_code == 404
    assert (await tickets.client.get(public_link(guessed))).json()["number"] == created.number
