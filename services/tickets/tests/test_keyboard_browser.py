"""The console by keyboard and for a screen reader, in headless Chromium (the console's fixtures, see
test_console_browser.py): j/k through the queue, Enter opens, r goes to the reply box, Escape back, / to the
search; rows reachable and named; tabs are tabs; every control on the queue and the ticket pages has a name."""

from __future__ import annotations

from .test_console_browser import (  # noqa: F401 - the fixtures are used by name
    WAIT_MS,
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

#: The controls a page shows that have no accessible name: no <label>, no aria-label, no text of their own.
UNNAMED = """() => Array.from(document.querySelectorAll("input, select, textarea, button"))
  .filter((c) => c.offsetParent !== null && c.type !== "hidden")
  .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute("aria-label") && !c.textContent.trim())
  .map((c) => c.id || c.outerHTML.slice(0, 80))"""


async def focused_row(page) -> str | None:  # noqa: ANN001 - playwright's page
    return await page.evaluate("() => document.activeElement.dataset ? document.activeElement.dataset.number : null")


async def test_an_agent_works_the_queue_by_keyboard(served: Served, browser, make_routed) -> None:  # noqa: F811
    numbers = [await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова",
                                   subject=f"Обращение {i}") for i in range(3)]
    page, _ = await log_in(browser, served, "Иванова")
    await expect(page.locator("#tickets tbody tr")).to_have_count(3)
    shown = await page.eval_on_selector_all("#tickets tbody tr", "rows => rows.map(r => r.dataset.number)")
    assert sorted(shown) == sorted(numbers)
    assert await page.get_attribute("#tabs", "role") == "tablist"
    assert await page.eval_on_selector_all("#tabs button", "bs => bs.map(b => b.getAttribute('role'))") == [
        "tab", "tab", "tab"]
    assert await page.evaluate(UNNAMED) == []

    await page.keyboard.press("j")
    assert await focused_row(page) == shown[0]
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    await page.keyboard.press("j")  # stays on the last row
    assert await focused_row(page) == shown[2]
    await page.keyboard.press("k")
    assert await focused_row(page) == shown[1]
    label = await page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert label.startswith(f"Обращение {shown[1]}: Обращение ")
    await page.keyboard.press("Enter")
    await expect(page.locator("#t-number")).to_have_text(shown[1])
    assert await page.evaluate(UNNAMED) == []

    await page.keyboard.press("r")
    assert await page.evaluate("() => document.activeElement.id") == "reply-body"
    await page.keyboard.type("jk/r")  # typed into the field, not taken as shortcuts
    await expect(page.locator("#reply-body")).to_have_value("jk/r")
    await page.keyboard.press("Escape")  # leaves the field ...
    await page.keyboard.press("Escape")  # ... then the ticket
    await expect(page.locator("#queue")).to_be_visible()
    await expect(page.locator("#tickets tbody tr")).to_have_count(3)
    await page.keyboard.press("/")
    assert await page.evaluate("() => document.activeElement.id") == "f-q"

    # Tab reaches the rows too (not only j/k): from the search box, through the form, into the list.
    for _ in range(20):
        await page.keyboard.press("Tab")
        if await focused_row(page):
            break
    assert await focused_row(page) == shown[0]
    assert page.errors == []


async def test_a_live_redraw_keeps_the_focused_row(served: Served, browser, make_routed) -> None:  # noqa: F811
    """The queue redraws by itself when a ticket changes: an agent working it by keyboard stays on her row."""
    numbers = [await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова",
                                   subject=f"Обращение {i}") for i in range(2)]
    page, _ = await log_in(browser, served, "Иванова")
    await expect(page.locator("#tickets tbody tr")).to_have_count(2)
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    on = await focused_row(page)
    assert on in numbers
    await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова", subject="Новое")
    await expect(page.locator("#tickets tbody tr")).to_have_count(3, timeout=WAIT_MS)
    assert await focused_row(page) == on
    await page.keyboard.press("k")  # and goes on from there
    assert await focused_row(page) not in (None, on)
