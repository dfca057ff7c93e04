"""The queue in headless Chromium (the console's fixtures, see test_console_browser.py) when its loads overlap:
the answer for a tab the agent already left, arriving after the one she chose, must not replace it."""

from __future__ import annotations

import asyncio

from .test_console_browser import (  # noqa: F401 - the fixtures are used by name
    Served,
    browser,
    expect,
    identity_url,
    log_in,
    portal_url,
    pytestmark,
    row_numbers,
    served,
    telephony_url,
)


async def test_a_late_answer_for_the_tab_left_behind_does_not_replace_the_list(
        served: Served, browser, make_routed) -> None:  # noqa: F811
    numbers = [await served.ticket(make=make_routed, channel="email", team="service", subject=f"Заявка {i}")
               for i in range(3)]
    page, _ = await log_in(browser, served, "Иванова")
    held, release = asyncio.Event(), asyncio.Event()

    async def hold(route) -> None:  # noqa: ANN001 - playwright's Route
        held.set()
        await release.wait()
        await route.continue_()

    # "Mine" (nothing is Иванова's yet) is slow to answer; "all" answers at once.
    await page.route("**/api/v1/tickets?*assignee=*", hold)
    await page.click('#tabs button[data-queue="mine"]')
    await asyncio.wait_for(held.wait(), 30)
    await page.click('#tabs button[data-queue="all"]')
    await expect(page.locator("#tickets tbody tr")).to_have_count(3)

    async with page.expect_response("**/api/v1/tickets?*assignee=*") as late:
        release.set()
    assert (await (await late.value).json())["items"] == []
    await page.evaluate("() => new Promise((done) => setTimeout(done, 200))")  # the late answer's handler ran
    assert sorted(await row_numbers(page)) == sorted(numbers)
    assert await page.get_attribute('#tabs button[data-queue="all"]', "aria-selected") == "true"
