"""The account's new-request form, on SQLite and PostgreSQL and the real broker: "next" offers the knowledge base's
articles for what the customer wrote (the deflection the web form does while one types), "this helped" counts the
page as deflected, and "send" publishes the request as the customer's message naming no ticket, once per form."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from priyom_contracts import ContactReceived
from priyom_portal.tables import kb_suggestion_sessions

from .conftest import write
from .test_account import Portal, portal, sign_in  # noqa: F401 - the fixture is used by name


async def test_a_new_request_offers_articles_then_goes_out_as_the_customer_s_message(portal: Portal) -> None:  # noqa: F811
    printer = await write(portal.http, "Принтер не печатает", "Проверьте, что в лотке есть бумага.")
    await write(portal.http, "Принтеры: регламент", "Сбросить спулер.", visibility="internal")
    assert (await portal.http.get("/account/new-request")).status_code == 303, "signed out: to the sign-in page"
    portal.directory.card("anna@example.ru")
    await sign_in(portal, "anna@example.ru")

    listing = await portal.http.get("/account")
    assert 'href="/account/new-request?lang=ru"' in listing.text
    form = await portal.http.get("/account/new-request")
    assert form.status_code == 200 and 'value="check"' in form.text
    key = re.search(r'name="key" value="([0-9a-f-]{36})"', form.text)[1]
    fields = {"key": key, "lang": "ru", "subject": "Принтер", "text": "Принтеры в бухгалтерии не печатают"}

    offered = await portal.http.post("/account/new-request", data={**fields, "step": "check"})
    assert offered.status_code == 200
    assert f'<li data-article="{printer}">' in offered.text and "Принтеры: регламент" not in offered.text
    assert f'name="session" value="{key}"' in offered.text and 'value="send"' in offered.text
    assert "Принтеры в бухгалтерии не печатают</textarea>" in offered.text, "the form comes back filled in"
    assert await portal.next_message("identity.contacts", timeout=1) is None, "nothing sent on 'next'"

    helped = await portal.http.post(f"/kb/{printer}/feedback", data={"helped": "yes", "session": key})
    assert helped.status_code == 303
    async with portal.parts.state["portal"].database.sessions() as session:
        deflected = (await session.execute(select(kb_suggestion_sessions.c.helped_article_id)
                                           .where(kb_suggestion_sessions.c.session_id == key))).scalar_one()
    assert deflected == printer, "the page counts as deflected"

    # Sent anyway (twice: a double click): one message, as a first contact of the portal channel.
    for _ in range(2):
        sent = await portal.http.post("/account/new-request", data={**fields, "step": "send"})
        assert sent.status_code == 303 and sent.headers["location"] == "/account?lang=ru&sent=1"
    message = await portal.next_message("identity.contacts")
    assert message is not None
    event = ContactReceived.model_validate(json.loads(message.body))
    assert (event.channel, event.contact.subject, event.contact.body) == (
        "portal", "Принтер", "Принтеры в бухгалтерии не печатают")
    assert event.contact.thread.ticket_number is None and event.contact.sender_authenticated
    assert str(event.contact.sender.email) == "anna@example.ru"
    again = await portal.next_message("identity.contacts", timeout=1)
    assert again is None or ContactReceived.model_validate(json.loads(again.body)).idempotency_key == \
        event.idempotency_key, "a resend carries the same idempotency key"
    assert "Обращение отправлено" in (await portal.http.get("/account?sent=1")).text

    # Refused: no text, or a key that is not the form's.
    empty = await portal.http.post("/account/new-request", data={**fields, "text": " ", "step": "send"})
    assert empty.status_code == 422
    keyless = await portal.http.post("/account/new-request", data={**fields, "key": "x", "step": "send"})
    assert keyless.status_code == 400
    assert await portal.next_message("identity.contacts", timeout=1) is None
