"""Bulk actions on the console's queue, in headless Chromium (the console's fixtures, see
test_console_browser.py): tick rows, take them, move them on; a ticket the lifecycle refuses is named."""

from __future__ import annotations

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


async def ticket_of(service: Served, number: str) -> dict:
    return (await service.http.get(f"/api/v1/tickets/{number}", headers={"Authorization": f"Bearer {ADMIN}"})).json()


async def test_an_agent_takes_and_accepts_several_tickets_at_once(served: Served, browser, make_routed) -> None:  # noqa: F811
    numbers = [await served.ticket(make=make_routed, channel="email", team="service", subject=f"Заявка {i}")
               for i in range(3)]
    page, _ = await log_in(browser, served, "Иванова")
    await page.click('#tabs button[data-queue="all"]')
    await expect(page.locator("#tickets tbody tr")).to_have_count(3)
    assert await page.locator("#bulk").is_hidden()
    picked, left = numbers[:2], numbers[2]
    for number in picked:
        await page.check(f'#tickets tr[data-number="{number}"] input.pick')
    await expect(page.locator("#bulk-count")).to_have_text("Выбрано: 2")
    assert await page.locator("#ticket").is_hidden(), "ticking a row does not open it"

    await page.click("#bulk-take")
    await expect(page.locator("#bulk-status")).to_have_text("Изменено: 2 из 2")
    assert [(await ticket_of(served, n))["assignee"] for n in numbers] == ["Иванова", "Иванова", None]

    await page.check("#pick-all")
    await page.select_option("#bulk-action", "accept")
    await page.click("#bulk-move")
    await expect(page.locator("#bulk-status")).to_have_text("Изменено: 3 из 3")
    assert {(await ticket_of(served, n))["status"] for n in numbers} == {"accepted"}

    # Accepting again is refused by each ticket's lifecycle: each refusal is named, nothing else changes.
    for number in picked:
        await page.check(f'#tickets tr[data-number="{number}"] input.pick')
    await page.select_option("#bulk-action", "accept")
    await page.click("#bulk-move")
    await expect(page.locator("#bulk-status")).to_contain_text("Изменено: 0 из 2. Не изменены — ")
    assert picked[0] in await page.text_content("#bulk-status")
    assert (await ticket_of(served, left))["status"] == "accepted"
    assert [e for e in page.errors if "409" not in e] == []
