"""Activities remind their owner, in headless Chromium (the console's fixtures, see test_console_browser.py):
an activity coming due raises a desktop notification ten minutes before and again when it falls overdue; the
agent's own list and the ticket's page mark it overdue; a colleague is never told of it."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import websockets

from priyom_contracts import utcnow

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


async def test_an_activity_reminds_its_owner_before_and_when_overdue(served: Served, browser,  # noqa: F811
                                                                     make_routed) -> None:
    number = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова",
                                 subject="Перезвонить по счёту")
    page = await agent_page(browser, served, "Иванова")
    ivanova = {"Authorization": f"Bearer {served.tokens['Иванова']}"}
    ws_ticket = (await served.http.post("/api/v1/ws-tickets", headers={
        "Authorization": f"Bearer {served.tokens['Петров']}"})).json()["ticket"]
    async with websockets.connect(f"{served.url.replace('http', 'ws')}/ws/live?ticket={ws_ticket}") as colleague:
        soon = utcnow() + timedelta(minutes=10, seconds=3)  # its reminder moment comes in 3 s
        overdue = utcnow() + timedelta(seconds=3)
        for title, due in (("Перезвонить Ольге", soon), ("Отправить акт", overdue)):
            made = await served.http.post(f"/api/v1/tickets/{number}/activities", headers=ivanova, json={
                "kind": "call_back", "title": title, "owner": "Иванова", "due_at": due.isoformat()})
            assert made.status_code == 201, made.text

        await page.reload()
        await expect(page.locator("#my-activity-list li")).to_have_count(2)
        assert await page.locator("#my-activity-list li.overdue").count() == 0

        await expect(page.locator("#my-activity-list li.overdue")).to_have_count(1, timeout=WAIT_MS)
        overdue_item = page.locator("#my-activity-list li.overdue")
        await expect(overdue_item).to_contain_text("Отправить акт")
        await expect(overdue_item).to_contain_text("просрочено")
        await expect(page.locator("#my-activities-title")).to_have_text("Мои задачи · просрочено: 1")
        notified = await page.evaluate("() => window.__notified")
        assert [f"Скоро срок задачи по обращению {number}", "Перезвонить Ольге"] in [
            [title, body.split(" · ")[0]] for title, body in notified]
        assert [f"Просрочена задача по обращению {number}", "Отправить акт"] in [
            [title, body.split(" · ")[0]] for title, body in notified]

        await overdue_item.locator("a").click()
        await expect(page.locator("#t-number")).to_have_text(number)
        late = page.locator("#t-activities li.overdue")
        await expect(late).to_have_count(1)
        await expect(late).to_contain_text("Отправить акт")
        await late.get_by_role("button", name="Выполнено").click()
        await expect(page.locator("#t-activities li.done")).to_have_count(1)
        await expect(page.locator("#my-activity-list li")).to_have_count(1)
        await expect(page.locator("#my-activities-title")).to_have_text("Мои задачи")

        told = []
        try:
            while True:
                told.append(json.loads(await asyncio.wait_for(colleague.recv(), 1.5)))
        except TimeoutError:
            pass
        assert all(message["type"] != "activity_reminder" for message in told), "only the owner is reminded"
    assert page.errors == []

