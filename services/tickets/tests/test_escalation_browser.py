"""Escalation that acts, in headless Chromium (the console's fixtures, see test_console_browser.py), two agents
in two pages: the colleague a ticket is escalated to is told at once on their console (a desktop notification)
and finds it in their queue; a vendor's case keeps the ticket with its agent, and the vendor's deadline becomes
her task, in her list and on the ticket."""

from __future__ import annotations

from .test_console_browser import (  # noqa: F401 - the fixtures are used by name
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
from .test_live_browser import agent_page


async def open_escalation(page) -> None:  # noqa: ANN001 - playwright's page
    """Unfold the escalation box (it stays unfolded from one ticket to the next)."""
    box = page.locator("details", has=page.locator("#escalation-form"))
    if await box.get_attribute("open") is None:
        await box.locator("summary").click()


async def test_an_escalation_tells_whom_it_reaches_and_a_vendor_deadline_reminds_the_agent(
    served: Served, browser, make_routed  # noqa: F811 - fixtures
) -> None:
    vendor_case = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова",
                                      subject="Плата неисправна")
    second_line = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова",
                                      subject="Не проходит оплата")
    agent = await agent_page(browser, served, "Иванова")
    head = await agent_page(browser, served, "Смирнов")

    await agent.goto(f"{served.url}/console#/ticket/{second_line}")
    await expect(agent.locator("#t-number")).to_have_text(second_line)
    await open_escalation(agent)
    await agent.select_option("#escalation-level", "second_line")
    assert await agent.locator("#escalation-due-label").is_hidden(), "a deadline is a vendor's only"
    await agent.fill("#escalation-to", "Смирнов")
    await agent.click("#escalation-send")
    await expect(agent.locator("#action-status")).to_have_text("Эскалировано: Смирнов")

    await head.wait_for_function("(title) => window.__notified.some(([t]) => t === title)",
                                 arg=f"Обращение {second_line} эскалировано вам", timeout=WAIT_MS)
    assert [f"Обращение {second_line} эскалировано вам", "Не проходит оплата"] in await head.evaluate(
        "() => window.__notified")
    await head.click("#tabs >> text=Мои")
    await expect(head.locator(f'#tickets tr[data-number="{second_line}"]')).to_have_count(1)

    await agent.goto(f"{served.url}/console#/ticket/{vendor_case}")
    await expect(agent.locator("#t-number")).to_have_text(vendor_case)
    await open_escalation(agent)
    await agent.select_option("#escalation-level", "vendor")
    await agent.fill("#escalation-to", "ООО Вендор, кейс 8812")
    await agent.fill("#escalation-due", "2030-01-15T10:30")
    await agent.click("#escalation-send")
    await expect(agent.locator("#action-status")).to_have_text("Эскалировано: ООО Вендор, кейс 8812")
    await expect(agent.locator("#t-activities li")).to_contain_text(["Ответ поставщика: ООО Вендор, кейс 8812"])
    await expect(agent.locator("#my-activity-list li")).to_contain_text(["Ответ поставщика: ООО Вендор, кейс 8812"])
    notified = await agent.evaluate("() => window.__notified")
    assert not any("эскалировано вам" in title for title, _ in notified), "a vendor's case stays with her"
    assert agent.errors == [] and head.errors == []
