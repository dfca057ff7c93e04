"""The console's live channel in headless Chromium (the console's fixtures, see test_console_browser.py): a
ticket assigned to the agent appears in her open queue, marked unread, with a desktop notification; the ticket
she has open follows a colleague's change and a customer's new message; nothing is reloaded by hand. A member
of another team hears only of their own team's tickets."""

from __future__ import annotations

import asyncio
import json
import uuid

import websockets

from priyom_contracts import ThreadHint

from .test_console_browser import (  # noqa: F401 - the fixtures are used by name
    ADMIN,
    WAIT_MS,
    Served,
    browser,
    expect,
    identity_url,
    portal_url,
    pytestmark,
    served,
    telephony_url,
)

#: Records the notifications the page raises, in place of the browser's (which a headless one cannot show).
NOTIFICATION_SPY = """
window.__notified = [];
const RealNotification = window.Notification;
window.Notification = class {
  constructor(title, options) { window.__notified.push([title, options && options.body]); }
  static get permission() { return RealNotification.permission; }
  static requestPermission() { return RealNotification.requestPermission(); }
};
"""


async def agent_page(chromium, service: Served, name: str):  # noqa: ANN001, ANN201 - playwright's types
    context = await chromium.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    await context.grant_permissions(["notifications"], origin=service.url)
    await context.add_init_script(NOTIFICATION_SPY)
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    await page.goto(f"{service.url}/console")
    await page.fill("#token", service.tokens[name])
    await page.click("#login-button")
    await expect(page.locator("#live-status")).to_have_text("обновления: на связи")
    return page


async def test_the_queue_and_the_open_ticket_follow_changes_live(served: Served, browser, make_routed) -> None:  # noqa: F811
    page = await agent_page(browser, served, "Иванова")
    await expect(page.locator("#tickets tbody tr")).to_have_count(0)
    ws_ticket = (await served.http.post("/api/v1/ws-tickets", headers={
        "Authorization": f"Bearer {served.tokens['Петров']}"})).json()["ticket"]
    async with websockets.connect(f"{served.url.replace('http', 'ws')}/ws/live?ticket={ws_ticket}") as sales_agent:
        client = uuid.uuid4()
        number = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова",
                                     client_id=client, subject="Касса не печатает чеки")
        sales = await served.ticket(make=make_routed, channel="email", team="sales", subject="Хотим купить")

        row = page.locator(f'#tickets tr[data-number="{number}"]')
        await expect(row).to_have_count(1)
        await expect(row).to_have_class("unread")
        assert "есть новое" in await row.get_attribute("aria-label")
        notified = await page.evaluate("() => window.__notified")
        assert notified == [[f"Вам назначено обращение {number}", "Касса не печатает чеки"]]

        told = set()
        while sales not in told:
            message = json.loads(await sales_agent.recv())
            told |= {t["number"] for t in message["tickets"]}
        assert number not in told, "another team's agent never hears of the service team's ticket"

    await row.click()
    await expect(page.locator("#t-number")).to_have_text(number)
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "new")
    moved = await served.http.post(f"/api/v1/tickets/{number}/transitions", json={"action": "accept"},
                                   headers={"Authorization": f"Bearer {served.tokens['Смирнов']}"})
    assert moved.status_code == 200, moved.text
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "accepted", timeout=WAIT_MS)

    await served.parts.bus.publish(make_routed(channel="email", team="service", client_id=client,
                                               body="Чек так и не печатается, фото приложу",
                                               thread=ThreadHint(ticket_number=number)))
    await expect(page.locator("#t-thread")).to_contain_text("Чек так и не печатается", timeout=WAIT_MS)

    await page.click("#back")
    await expect(row).to_have_count(1)
    await expect(row).not_to_have_class("unread")
    assert page.errors == []


async def test_a_change_while_the_agent_fills_a_form_is_offered_not_forced(served: Served, browser,  # noqa: F811
                                                                           make_routed) -> None:
    number = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова")
    page = await agent_page(browser, served, "Иванова")
    await page.goto(f"{served.url}/console#/ticket/{number}")
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "new")
    await page.click("#retype summary")
    await page.select_option("#retype-type", "purchase_interest")  # half-way through changing the type

    moved = await served.http.post(f"/api/v1/tickets/{number}/transitions", json={"action": "accept"},
                                   headers={"Authorization": f"Bearer {served.tokens['Смирнов']}"})
    assert moved.status_code == 200, moved.text
    await expect(page.locator("#live-stale")).to_be_visible()
    assert await page.input_value("#retype-type") == "purchase_interest", "what she chose is kept"
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "new")
    await page.click("#live-stale")
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "accepted")
    await expect(page.locator("#live-stale")).to_be_hidden()
    assert page.errors == []


async def test_a_live_reload_under_way_gives_way_to_a_field_being_filled(served: Served, browser,  # noqa: F811
                                                                         make_routed) -> None:
    """The reload leaves before the agent starts typing and comes back after: what she typed stays (the CI's
    complaint-fields failure: a field filled while a reload was on its way was reset before the save)."""
    number = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова")
    page = await agent_page(browser, served, "Иванова")
    await page.goto(f"{served.url}/console#/ticket/{number}")
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "new")
    held, release = asyncio.Event(), asyncio.Event()

    async def hold(route) -> None:  # noqa: ANN001 - playwright's Route
        held.set()
        await release.wait()
        await route.continue_()

    await page.route(f"**/api/v1/tickets/{number}", hold)
    moved = await served.http.post(f"/api/v1/tickets/{number}/transitions", json={"action": "accept"},
                                   headers={"Authorization": f"Bearer {served.tokens['Смирнов']}"})
    assert moved.status_code == 200, moved.text
    await asyncio.wait_for(held.wait(), 30)  # the live reload is on its way
    await page.fill("#reply-body", "Пишу ответ")
    async with page.expect_response(f"**/api/v1/tickets/{number}"):
        release.set()
    await expect(page.locator("#live-stale")).to_be_visible()
    assert await page.input_value("#reply-body") == "Пишу ответ", "what she typed is kept"
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "new")
    await page.unroute(f"**/api/v1/tickets/{number}")
    await page.click("#live-stale")
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "accepted")
    assert page.errors == []


async def test_a_reload_that_read_before_the_agents_note_does_not_hide_it(served: Served, browser,  # noqa: F811
                                                                          make_routed) -> None:
    """A note leaves the ticket's updated_at as it was, so a reload that read the notes before it was written
    and came back after looked current and drew the thread without it (the CI's mention-test failure)."""
    number = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова")
    page = await agent_page(browser, served, "Смирнов")
    await page.goto(f"{served.url}/console#/ticket/{number}")
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "new")
    held, release = asyncio.Event(), asyncio.Event()
    reads: list[int] = []

    async def read_now_answer_later(route) -> None:  # noqa: ANN001 - playwright's Route
        if route.request.method != "GET" or reads:
            await route.continue_()
            return
        answer = await route.fetch()  # the notes as they are before the note
        reads.append(len(await answer.json()))
        held.set()
        await release.wait()
        await route.fulfill(response=answer)

    await page.route(f"**/api/v1/tickets/{number}/notes", read_now_answer_later)
    moved = await served.http.post(f"/api/v1/tickets/{number}/transitions", json={"action": "accept"},
                                   headers={"Authorization": f"Bearer {served.tokens['Иванова']}"})
    assert moved.status_code == 200, moved.text
    await asyncio.wait_for(held.wait(), 30)  # the live reload has read the notes and is on its way back
    await page.fill("#note-body", "Проверить договор")
    await page.click("#note-add")
    await expect(page.locator("#note-status")).to_have_text("Заметка добавлена")
    release.set()
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "accepted")  # the reload landed
    await expect(page.locator("#t-thread li.internal .body")).to_have_text(["Проверить договор"])
    assert reads == [0]
    assert page.errors == []
