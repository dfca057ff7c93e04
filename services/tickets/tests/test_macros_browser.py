"""Macros in the agent console, in headless Chromium (the console's fixtures, see test_console_browser.py):
an agent saves a personal macro in the console, applies it to a ticket (its text filled in the reply box, the
ticket accepted at once) and sends the reply; a colleague never sees the personal macro."""

from __future__ import annotations

from priyom_tickets import tables

from .test_console_browser import (  # noqa: F401 - the fixtures are used by name
    ADMIN,
    Served,
    browser,
    expect,
    identity_url,
    log_in,
    portal_url,
    pytestmark,
    served,
    telephony_url,
)


async def test_an_agent_saves_a_macro_applies_it_and_sends_the_filled_in_reply(
    served: Served, browser, make_routed  # noqa: F811 - fixtures
) -> None:
    number = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова",
                                 subject="Касса не печатает")
    page, _ = await log_in(browser, served, "Иванова")
    await page.goto(f"{served.url}/console#/ticket/{number}")
    await expect(page.locator("#t-number")).to_have_text(number)

    await page.click("#macros-box summary")
    await page.fill("#macro-name", "Приняли")
    await page.fill("#macro-body", "Здравствуйте! Заявка {{number}} принята, {{agent}}.")
    await page.select_option("#macro-action", "accept")
    await page.click("#macro-save")
    await expect(page.locator("#macro-status")).to_have_text("Макрос сохранён")
    await expect(page.locator("#macro-list li")).to_have_count(1)

    await page.select_option("#macro-pick", label="Приняли (мой)")
    await page.click("#macro-apply")
    await expect(page.locator("#reply-status")).to_have_text("Макрос применён")
    await expect(page.locator("#reply-body")).to_have_value(f"Здравствуйте! Заявка {number} принята, Иванова.")
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "accepted")
    await page.click("#reply-send")
    await expect(page.locator("#reply-status")).to_have_text("Ответ отправлен")
    async with served.database.sessions() as session:
        sent = [r.body for r in await session.execute(tables.ticket_messages.select().where(
            tables.ticket_messages.c.kind == "reply"))]
    assert sent == [f"Здравствуйте! Заявка {number} принята, Иванова."]

    colleague = {"Authorization": f"Bearer {served.tokens['Петров']}"}
    assert (await served.http.get("/api/v1/macros", headers=colleague)).json() == []
    everyone = await served.http.get("/api/v1/macros", headers={"Authorization": f"Bearer {ADMIN}"})
    assert [m["name"] for m in everyone.json()] == [], "a personal macro is its owner's alone, even for the admin"
    assert page.errors == []
