"""The website chat end to end: a visitor on a company's page (another origin, served here) chats through the
widget in headless Chromium; identity, router, tickets and intake-messenger run as processes on the real
broker. The first message becomes a ticket, the agent's answer through the tickets API appears in the widget
live; then intake-messenger is killed with SIGKILL mid-chat: the visitor's message written meanwhile is
resent by the widget under the same id after the restart, and the agent's answer sent meanwhile arrives.
Each lands once: nothing lost, nothing doubled. When no agent in the router's roster is available, the widget
says so, and the answer to a visitor who left an e-mail goes by e-mail. The demo page ``make up`` links runs
the widget under its strict Content-Security-Policy.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from priyom_contracts import ContactReceived, Topology
from priyom_testing.browser import CHROMIUM, needs_chromium
from priyom_testing.stack import Stack

from .chat_site import ChatStack

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (requirements-dev)"
)
expect = playwright_api.expect
pytestmark = [pytest.mark.e2e, *needs_chromium(timeout=300)]
expect.set_options(timeout=45_000)

#: How each ticket type is taken to ``closed`` by staff (the lifecycles of the tickets service).
PATH_TO_CLOSED = {
    "complaint": [("review", None), ("reject", "reject_no_grounds"), ("close", None)],
    "service_request": [("accept", None), ("resolve", "fixed"), ("close", None)],
    "information_request": [("accept", None), ("resolve", "consulted"), ("close", None)],
    "purchase_interest": [("accept", None), ("resolve", "offer_sent"), ("close", None)],
}




async def tap(
    connection: aio_pika.abc.AbstractConnection, stack: Stack, *keys: str
) -> dict[str, aio_pika.abc.AbstractQueue]:
    """An exclusive queue per routing key on the stack's bus: a copy of what is published there from now on."""
    channel = await connection.channel()
    exchange = await channel.get_exchange(Topology(stack.env["PRIYOM_BUS_PREFIX"]).exchange)
    queues = {}
    for key in keys:
        queues[key] = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queues[key].bind(exchange, routing_key=key)
    return queues


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 45) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := await check()):
        if loop.time() > deadline:
            raise AssertionError(f"not reached in {timeout:g} s: {what}")
        await asyncio.sleep(0.2)
    return result


async def test_a_visitor_sees_the_agents_answer_live_and_a_kill_loses_nothing(
    chat_stack: ChatStack, amqp_url: str, tmp_path: Path
) -> None:
    stack = chat_stack.stack
    screenshot = tmp_path / "ошибка.png"
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n screenshot of the error")
    tickets = stack.url("tickets")
    connection = await aio_pika.connect(amqp_url)
    async with (
        connection,
        httpx.AsyncClient(timeout=10, headers=stack.admin_headers) as api,
        playwright_api.async_playwright() as pw,
    ):
        chat_contacts = (await tap(connection, stack, "contact.received.v1.chat"))["contact.received.v1.chat"]

        async def next_contact() -> ContactReceived:
            message = await eventually(lambda: chat_contacts.get(no_ack=True, fail=False), "a chat contact")
            return ContactReceived.model_validate_json(message.body)

        async def detail(number: str) -> dict[str, Any]:
            response = await api.get(f"{tickets}/api/v1/tickets/{number}")
            assert response.status_code == 200, response.text
            return response.json()

        async def reply(number: str, text: str) -> None:
            sent = await api.post(f"{tickets}/api/v1/tickets/{number}/replies", json={"body": text})
            assert sent.status_code == 202, sent.text

        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 800})  # a phone's screen
            problems: list[str] = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            await page.goto(chat_stack.page_url + "/")
            await page.click("#launcher")
            await expect(page.locator("#status")).to_have_text("We are online")  # an English browser
            await page.fill("#name", "Ольга Смирнова")
            await page.fill("#email", f"olga.{uuid.uuid4().hex[:6]}@example.ru")
            await page.check("#consent")
            await page.click("#prechat button[type=submit]")
            await page.fill("#text", "Не проходит оплата картой на сайте")
            await page.set_input_files("#file", str(screenshot))
            await page.click("#send")
            await expect(page.locator("#log li.visitor[data-state=sent]")).to_have_count(1)

            first = await next_contact()
            assert [(a.filename, a.size) for a in first.contact.attachments] == [
                ("ошибка.png", len(screenshot.read_bytes()))
            ]
            found = await eventually(
                lambda: _ticket_of(api, tickets, str(first.contact.contact_id)), "the ticket"
            )
            number = found["number"]
            answer = f"Ольга, проверьте, пожалуйста, ещё раз ({uuid.uuid4().hex[:6]})"
            await reply(number, answer)
            await expect(page.locator("#log li.agent", has_text=answer)).to_have_count(1)

            # Mid-chat, the messenger dies without a word. The visitor writes; the agent answers.
            stack.kill("intake-messenger")
            await page.fill("#text", "Теперь пишет «Платёж отклонён»")
            await page.click("#send")
            await expect(page.locator("#log li.visitor[data-state=sending]")).to_have_count(1)
            later = f"Передали в банк, ждём ответа ({uuid.uuid4().hex[:6]})"
            await reply(number, later)
            await asyncio.to_thread(stack.start, ["intake-messenger"])

            await expect(page.locator("#log li.visitor[data-state=sent]")).to_have_count(2)
            await expect(page.locator("#log li.agent", has_text=later)).to_have_count(1)
            await expect(page.locator("#log li.agent", has_text=answer)).to_have_count(1)
            second = await next_contact()
            assert second.contact.thread.external_thread_id == first.contact.thread.external_thread_id
            await eventually(
                lambda: _has_once(detail, number, "Теперь пишет «Платёж отклонён»"),
                "the follow-up on the same ticket, once",
            )

            # The ticket is closed: the closing notice offers the rating, and five stars rate the ticket.
            for action, decision in PATH_TO_CLOSED[(await detail(number))["type"]]:
                moved = await api.post(
                    f"{tickets}/api/v1/tickets/{number}/transitions",
                    json={"action": action, **({"decision": decision} if decision else {})},
                )
                assert moved.status_code == 200, moved.text
            await page.click("#log .rating button[data-rating='5']")

            async def rated() -> dict[str, Any] | None:
                return (await detail(number))["satisfaction"]

            rating = await eventually(rated, "the rating on the ticket")
            assert (rating["rating"], rating["channel"]) == (5, "chat")
            assert problems == []
        finally:
            await browser.close()


async def _ticket_of(api: httpx.AsyncClient, tickets: str, contact_id: str) -> dict[str, Any] | None:
    found = await api.get(f"{tickets}/api/v1/contacts/{contact_id}/ticket")
    return found.json() if found.status_code == 200 else None


async def _has_once(detail: Callable[[str], Awaitable[dict[str, Any]]], number: str, body: str) -> bool:
    return [m["body_text"] for m in (await detail(number))["messages"]].count(body) == 1


async def test_with_nobody_available_the_widget_says_so_and_the_answer_goes_by_e_mail(
    chat_stack: ChatStack, amqp_url: str
) -> None:
    stack = chat_stack.stack
    router, tickets = stack.url("router"), stack.url("tickets")
    email = f"ivan.{uuid.uuid4().hex[:6]}@example.ru"
    connection = await aio_pika.connect(amqp_url)
    async with (
        connection,
        httpx.AsyncClient(timeout=10, headers=stack.admin_headers) as api,
        playwright_api.async_playwright() as pw,
    ):
        taps = await tap(connection, stack, "contact.received.v1.chat", "reply.outbound.v1.email")
        agents = [a["name"] for a in (await api.get(f"{router}/api/v1/agents")).json() if a["available"]]
        assert agents, "the default rule book has agents"
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for name in agents:
                moved = await api.put(
                    f"{router}/api/v1/agents/{name}/availability", json={"available": False}
                )
                assert moved.status_code == 204, moved.text
            page = await browser.new_page(locale="ru-RU")  # the widget speaks the browser's language
            await page.goto(chat_stack.page_url + "/")
            await page.click("#launcher")
            await expect(page.locator("#status")).to_contain_text("никого нет на месте")
            await page.fill("#name", "Иван Петров")
            await page.fill("#email", email)
            await page.check("#consent")
            await page.click("#prechat button[type=submit]")
            await page.fill("#text", "Как вернуть товар?")
            await page.click("#send")
            await expect(page.locator("#log li.visitor[data-state=sent]")).to_have_count(1)

            message = await eventually(
                lambda: taps["contact.received.v1.chat"].get(no_ack=True, fail=False), "the contact"
            )
            contact = ContactReceived.model_validate_json(message.body).contact
            assert (contact.sender.messenger, contact.sender.email) == (None, email)
            found = await eventually(lambda: _ticket_of(api, tickets, str(contact.contact_id)), "the ticket")
            answer = f"Оформите возврат в личном кабинете ({uuid.uuid4().hex[:6]})"
            sent = await api.post(
                f"{tickets}/api/v1/tickets/{found['number']}/replies", json={"body": answer}
            )
            assert sent.status_code == 202, sent.text

            async def emailed() -> dict[str, Any] | None:
                while (m := await taps["reply.outbound.v1.email"].get(no_ack=True, fail=False)) is not None:
                    body = json.loads(m.body)
                    if body["body"] == answer:
                        return body
                return None

            mail = await eventually(emailed, "the answer on its way by e-mail")
            assert mail["recipient"]["email"] == email
            await asyncio.sleep(1)
            assert await page.locator("#log li.agent", has_text=answer).count() == 0
        finally:
            for name in agents:
                await api.put(f"{router}/api/v1/agents/{name}/availability", json={"available": True})
            await browser.close()


async def test_the_demo_page_runs_the_widget_under_its_content_security_policy(chat_stack: ChatStack) -> None:
    """The page ``make up`` links: script, style and socket all from the service's own origin, nothing inline."""
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(locale="ru-RU")
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            await page.goto(chat_stack.stack.url("intake-messenger") + "/chat/demo")
            await page.click("#launcher")
            await expect(page.locator("#status")).to_have_text("Мы на связи")
            await page.fill("#phone", "+7 916 000-00-00")
            await page.check("#consent")
            await page.click("#prechat button[type=submit]")
            await page.fill("#text", "Проверка демонстрационной страницы")
            await page.press("#text", "Enter")
            await expect(page.locator("#log li.visitor[data-state=sent]")).to_have_count(1)
            panel = await page.locator("#panel").bounding_box()
            assert panel is not None and panel["width"] > 0
            # Failed loads are expected (no favicon); a refused script, style or socket is not.
            assert [p for p in problems if not p.startswith("Failed to load resource")] == []
        finally:
            await browser.close()
