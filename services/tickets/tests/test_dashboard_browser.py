"""The supervisor's dashboard in headless Chromium (the console's fixtures, see test_console_browser.py):
queues, lateness, today's SLA, calls and agents; it redraws by itself when a ticket changes; a figure opens the
console's list behind it. Agents are refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

from priyom_contracts import CallEvent, CallOutcome, CallState, utcnow
from priyom_tickets import tables

from .test_call_backs import phoned
from .test_console_browser import (  # noqa: F401 - the fixtures are used by name
    ADMIN,
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


async def test_the_dashboard_shows_the_desk_live_and_opens_the_list_behind_a_figure(
    served: Served, browser, make_routed  # noqa: F811 - fixtures
) -> None:
    late = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова",
                               subject="Просроченное")
    past = utcnow() - timedelta(hours=1)  # time passed: its deadline is behind us
    async with served.database.sessions() as session:
        await session.execute(tables.tickets.update().where(tables.tickets.c.number == late).values(
            resolution_due_at=past))
        await session.commit()
    await served.ticket(make=make_routed, channel="email", team="service", subject="Ждёт исполнителя")
    await served.ticket(make=make_routed, channel="email", team="sales", subject="Продажа")
    agent, _ = await log_in(browser, served, "Иванова")  # her console is open: she is online
    await expect(agent.locator("#live-status")).to_have_text("обновления: на связи")
    refused = await served.http.get("/api/v1/dashboard", headers={"Authorization": f"Bearer {served.tokens['Иванова']}"})
    assert refused.status_code == 403
    assert await agent.locator("#dashboard-link").is_hidden()

    head, _ = await log_in(browser, served, "Смирнов")
    await expect(head.locator("#dashboard-link")).to_be_visible()
    await head.click("#dashboard-link")
    service = head.locator('#db-teams tr[data-team="service"]')
    await expect(service.locator("td.open")).to_have_text("2")
    await expect(service.locator("td.waiting")).to_have_text("1")
    await expect(service.locator("td.overdue")).to_have_text("1")
    await expect(head.locator('#db-teams tr[data-team="sales"] td.open')).to_have_text("1")
    ivanova = head.locator('#db-agents tr[data-agent="Иванова"]')
    await expect(ivanova).to_contain_text("да")
    await expect(ivanova.locator("td.open")).to_have_text("1")
    await expect(head.locator("#db-hours tbody tr")).to_have_count(24)
    await expect(head.locator("#db-live")).to_have_text("обновления: на связи")

    # A new ticket: the dashboard redraws by itself.
    await served.ticket(make=make_routed, channel="email", team="service", subject="Ещё одно")
    await expect(service.locator("td.open")).to_have_text("3", timeout=WAIT_MS)

    # Resolved in time today: the SLA line says so.
    for action, body in (("accept", {}), ("resolve", {"decision": "consulted"})):
        moved = await served.http.post(f"/api/v1/tickets/{late}/transitions", json={"action": action} | body,
                                       headers={"Authorization": f"Bearer {ADMIN}"})
        assert moved.status_code == 200, moved.text
    await expect(head.locator("#db-resolution")).to_have_text("0% (0 из 1)", timeout=WAIT_MS)

    await service.locator("td.open a").click()
    await expect(head.locator("#tickets tbody tr")).to_have_count(2)  # the service team's open ones, not sales
    subjects = await head.eval_on_selector_all("#tickets tbody tr td:nth-child(6)", "cs => cs.map(c => c.textContent)")
    assert sorted(subjects) == ["Ещё одно", "Ждёт исполнителя"]
    assert head.errors == [] and agent.errors == []


async def test_the_dashboard_shows_calls_ringing_now_and_today_s_answered_and_missed(
    served: Served, browser, make_routed  # noqa: F811 - fixtures
) -> None:
    head, _ = await log_in(browser, served, "Смирнов")
    await head.goto(f"{served.url}/console/dashboard")
    await expect(head.locator("#db-live")).to_have_text("обновления: на связи")
    await expect(head.locator("#db-ringing")).to_have_text("0")

    def call(call_id: str, state: CallState, agent: str) -> CallEvent:
        return CallEvent(correlation_id=uuid.uuid4(), channel="phone", idempotency_key=f"{call_id}-{state}-{agent}",
                         call_id=call_id, state=state, caller="+79161234567", agent=agent)

    await served.parts.bus.publish(call("1764072000.5", CallState.RINGING, "101"))
    await served.parts.bus.publish(call("1764072000.6", CallState.RINGING, "102"))
    await expect(head.locator("#db-ringing")).to_have_text("2", timeout=WAIT_MS)
    await served.parts.bus.publish(call("1764072000.5", CallState.ANSWERED, "101"))
    await expect(head.locator("#db-talking")).to_have_text("1", timeout=WAIT_MS)
    await expect(head.locator("#db-ringing")).to_have_text("1")
    await served.parts.bus.publish(call("1764072000.6", CallState.MISSED, "102"))
    await served.parts.bus.publish(call("1764072000.5", CallState.ENDED, "101"))
    await expect(head.locator("#db-talking")).to_have_text("0", timeout=WAIT_MS)
    await expect(head.locator("#db-ringing")).to_have_text("0")

    # At hangup each call becomes a contact with its outcome: today's figures follow. (Started now, not two
    # minutes ago: in the first two minutes of a day that was yesterday's call, and the test failed then.)
    missed = await served.ticket(make=lambda **kw: phoned(make_routed(**kw), CallOutcome.MISSED, started=utcnow()),
                                 channel="phone", team="service", subject="Пропущенный звонок")
    await served.ticket(make=make_routed, channel="email", team="service", subject="Письмо")
    await expect(head.locator("#db-missed")).to_have_text("1", timeout=WAIT_MS)
    await expect(head.locator("#db-answered")).to_have_text("0")
    await head.locator("#db-missed a").click()
    await expect(head.locator("#tickets tbody tr")).to_have_count(1)
    await expect(head.locator(f'#tickets tr[data-number="{missed}"]')).to_have_count(1)
    assert head.errors == []
