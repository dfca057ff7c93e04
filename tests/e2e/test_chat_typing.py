"""The chat's typing indicator end to end, in headless Chromium: a visitor on a company's page (the widget)
and an agent in the console, with identity, router, tickets and intake-messenger as processes on the real
broker (the chat's stack, conftest.py).

The visitor types: the agent who has the chat's ticket open sees "Клиент печатает…", gone when the message
arrives. The agent types an answer: the widget says "The operator is typing…", gone a few seconds after the
agent stops, and again when the answer arrives. No text travels with either signal.
"""

from __future__ import annotations

import uuid

import httpx

from priyom_contracts import ContactReceived
from priyom_kit.testing import bus_tap
from priyom_testing.browser import CHROMIUM

from .chat_site import ChatStack
from .test_chat_widget import (  # noqa: F401 - the markers are used by name
    _ticket_of,
    eventually,
    expect,
    playwright_api,
    pytestmark,
)


async def test_the_visitor_and_the_agent_each_see_the_other_typing(
    chat_stack: ChatStack, amqp_url: str
) -> None:
    stack = chat_stack.stack
    tickets = stack.url("tickets")
    async with (
        bus_tap(amqp_url, stack.env["PRIYOM_BUS_PREFIX"], "contact.received.v1.chat") as contacts,
        httpx.AsyncClient(timeout=10, headers=stack.admin_headers) as api,
        playwright_api.async_playwright() as pw,
    ):
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            problems: list[str] = []
            visitor = await browser.new_page(viewport={"width": 390, "height": 800})  # an English phone
            visitor.on("pageerror", lambda e: problems.append(str(e)))
            await visitor.goto(chat_stack.page_url + "/")
            await visitor.click("#launcher")
            await visitor.fill("#name", "Ольга Смирнова")
            await visitor.fill("#email", f"olga.{uuid.uuid4().hex[:6]}@example.ru")
            await visitor.check("#consent")
            await visitor.click("#prechat button[type=submit]")
            await visitor.fill("#text", "Заказ так и не пришёл")
            await visitor.click("#send")
            contact = ContactReceived.model_validate_json((await contacts.next(timeout=45)).body).contact
            number = (await eventually(lambda: _ticket_of(api, tickets, str(contact.contact_id)), "the ticket"))[
                "number"
            ]
            team = (await api.get(f"{tickets}/api/v1/tickets/{number}")).json()["team"]
            made = await api.post(
                f"{tickets}/api/v1/staff",
                json={"name": f"Оператор {uuid.uuid4().hex[:6]}", "role": "agent", "teams": [team]},
            )
            assert made.status_code == 201, made.text

            agent = await browser.new_page(viewport={"width": 1366, "height": 900}, locale="ru-RU")  # a Russian desk
            agent.on("pageerror", lambda e: problems.append(str(e)))
            await agent.goto(f"{tickets}/console")
            await agent.fill("#token", made.json()["token"])
            await agent.click("#login-button")
            await expect(agent.locator("#live-status")).to_have_text("обновления: на связи")
            await agent.goto(f"{tickets}/console#/ticket/{number}")
            await expect(agent.locator("#t-number")).to_have_text(number)
            await expect(agent.locator("#live-status")).to_have_text("обновления: на связи")
            await expect(agent.locator("#reply-path")).to_have_attribute("data-channel", "chat")
            typing_there = agent.locator("#visitor-typing")
            await expect(typing_there).to_be_hidden()

            # The visitor types, key by key for a few seconds: the agent sees it; the message arrives: the note
            # gives way to it.
            follow_up = f"Номер заказа {uuid.uuid4().hex[:6]}, оплачен картой позавчера"
            await visitor.locator("#text").press_sequentially(follow_up, delay=100)
            await expect(typing_there).to_be_visible()
            await expect(typing_there).to_have_text("Клиент печатает…")
            await visitor.click("#send")
            await expect(agent.locator("#t-thread")).to_contain_text(follow_up)
            await expect(typing_there).to_be_hidden(timeout=1_000)

            # The agent types: the widget says so, and stops saying so a few seconds after the agent stops.
            typing_here = visitor.locator("#typing")
            await expect(typing_here).to_be_hidden()
            await agent.fill("#reply-body", "Ольга, посылка")
            await expect(typing_here).to_be_visible()
            await expect(typing_here).to_have_text("The operator is typing…")
            await expect(typing_here).to_be_hidden(timeout=10_000)
            # Typing again, then the answer: shown, and the note gone with it.
            answer = f"Ольга, посылка у курьера, будет сегодня ({uuid.uuid4().hex[:6]})"
            await agent.fill("#reply-body", answer)
            await expect(typing_here).to_be_visible()
            await agent.click("#reply-send")
            await expect(visitor.locator("#log li.agent", has_text=answer)).to_have_count(1)
            await expect(typing_here).to_be_hidden(timeout=1_000)
            assert problems == []
        finally:
            await browser.close()
