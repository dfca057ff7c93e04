"""The console in each agent's language and time zone, in headless Chromium (the console's fixtures, see
test_console_browser.py): two agents at once, one in English in New York, one in Russian in Moscow, each
sees their own words, a Russian plural rightly formed, and the same deadline in their own clock time. Their
choices are their accounts', not their browsers': each browser is set to the other language and a third zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from priyom_tickets import tables

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

#: One deadline for both: 12:00 UTC is 07:00 in New York (EST) and 15:00 in Moscow.
DUE = datetime(2031, 1, 15, 12, 0, tzinfo=UTC)


async def choose(service: Served, name: str, locale: str, zone: str) -> None:
    """What the agent's switcher does: PUT /api/v1/me/preferences with their own token."""
    answer = await service.http.put("/api/v1/me/preferences", json={"locale": locale, "time_zone": zone},
                                    headers={"Authorization": f"Bearer {service.tokens[name]}"})
    assert answer.status_code == 200, answer.text


async def test_two_agents_each_see_their_language_and_the_same_deadline_in_their_own_zone(
    served: Served, browser, make_routed  # noqa: F811 - fixtures
) -> None:
    numbers = [await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова",
                                   subject=subject) for subject in ("Котёл не греет", "Счёт не пришёл")]
    async with served.database.sessions() as session:
        await session.execute(tables.tickets.update().where(tables.tickets.c.number.in_(numbers)).values(
            resolution_due_at=DUE))
        await session.commit()
    await choose(served, "Иванова", "en", "America/New_York")
    await choose(served, "Смирнов", "ru", "Europe/Moscow")

    english, _ = await log_in(browser, served, "Иванова", locale="ru-RU", timezone_id="Asia/Tokyo")
    russian, _ = await log_in(browser, served, "Смирнов", locale="en-US", timezone_id="Asia/Tokyo")

    # Each in their own words, the page's language marked for screen readers.
    await expect(english.locator("#live-status")).to_have_text("updates: connected")
    await expect(russian.locator("#live-status")).to_have_text("обновления: на связи")
    assert await english.get_attribute("html", "lang") == "en" and await russian.get_attribute("html", "lang") == "ru"
    await expect(english.locator('#tabs button[data-queue="mine"]')).to_have_text("Mine")
    await expect(russian.locator('#tabs button[data-queue="all"]')).to_have_text("Все")
    assert await english.get_attribute("#f-q", "placeholder") == "number or text"
    assert await russian.get_attribute("#f-q", "placeholder") == "номер или текст"
    assert await english.get_attribute("#page-next", "aria-label") == "Next page"
    assert await russian.get_attribute("#page-next", "aria-label") == "Следующая страница"
    assert await english.title() == "Priyom — agent console"
    assert await russian.title() == "Priyom — консоль оператора"
    assert await english.input_value("#pref-locale") == "en"
    assert await english.input_value("#pref-zone") == "America/New_York"

    # Plurals: "2 tickets" and "2 обращения", and Russian's three forms for 1, 2 and 5.
    await expect(english.locator("#queue-total")).to_have_text("1–2 of 2 tickets")
    await expect(russian.locator("#queue-total")).to_have_text("1–2 · всего 2 обращения")
    plurals = "() => [1, 2, 5, 21].map((count) => t('queue.total', { from: 1, to: count, count }))"
    assert await russian.evaluate(plurals) == [
        "1–1 · всего 1 обращение", "1–2 · всего 2 обращения", "1–5 · всего 5 обращений", "1–21 · всего 21 обращение"]

    # The same deadline, in the queue and on the ticket, each in the agent's zone (not the browser's, Tokyo's).
    row = f'#tickets tr[data-number="{numbers[0]}"] td.deadline'
    await expect(english.locator(row)).to_contain_text(re.compile(r"1/15/31, 7:00\sAM"))
    await expect(russian.locator(row)).to_contain_text("15.01.2031, 15:00")
    for page in (english, russian):
        await page.click(f'#tickets tr[data-number="{numbers[0]}"]')
        await page.wait_for_selector("#ticket:not([hidden])", timeout=WAIT_MS)
    await expect(english.locator("#sla-resolution")).to_have_text(re.compile(r"^.+ left \(due 1/15/31, 7:00\sAM\)$"))
    await expect(russian.locator("#sla-resolution")).to_have_text(
        re.compile(r"^осталось .+ \(до 15\.01\.2031, 15:00\)$"))
    await expect(english.locator("#t-status")).to_have_text("new")
    await expect(russian.locator("#t-status")).to_have_text("новое")
    await expect(english.locator('#action-buttons button[data-action="accept"]')).to_have_text("Accept")
    await expect(russian.locator('#action-buttons button[data-action="accept"]')).to_have_text("Принять")
    thread_time = english.locator("#t-thread li .meta").first
    created = (await served.http.get(f"/api/v1/tickets/{numbers[0]}", headers={"Authorization": f"Bearer {ADMIN}"})
               ).json()["messages"][0]["created_at"]
    in_new_york = datetime.fromisoformat(created).astimezone(ZoneInfo("America/New_York"))
    await expect(thread_time).to_contain_text(f"{in_new_york.hour % 12 or 12}:{in_new_york.minute:02d}")

    # She switches to Russian and Yekaterinburg (UTC+5): the page redraws at once, and her account keeps it.
    await english.select_option("#pref-locale", "ru")
    await expect(english.locator("#sla-resolution")).to_have_text(
        re.compile(r"^осталось .+ \(до 15\.01\.2031, 07:00\)$"))
    await english.select_option("#pref-zone", "Asia/Yekaterinburg")
    await expect(english.locator("#sla-resolution")).to_have_text(re.compile(r"\(до 15\.01\.2031, 17:00\)$"))
    await expect(english.locator("#back")).to_have_text("← к очереди")
    await expect(english.locator("#live-status")).to_have_text("обновления: на связи")  # said before, worded again
    for name, zone in (("Иванова", "Asia/Yekaterinburg"), ("Смирнов", "Europe/Moscow")):  # hers kept, his untouched
        kept = (await served.http.get("/api/v1/me", headers={"Authorization": f"Bearer {served.tokens[name]}"})).json()
        assert (kept["locale"], kept["time_zone"]) == ("ru", zone), name
    assert english.errors == [] and russian.errors == []


async def test_an_agent_who_never_chose_gets_the_browsers_language_and_the_dashboard_its_zone(
    served: Served, browser, make_routed  # noqa: F811 - fixtures
) -> None:
    await served.ticket(make=make_routed, channel="email", team="sales", subject="Коммерческое предложение")
    petrov, _ = await log_in(browser, served, "Петров", locale="en-US", timezone_id="Asia/Tokyo")
    await expect(petrov.locator("#live-status")).to_have_text("updates: connected")
    await expect(petrov.locator("#queue-total")).to_have_text("no tickets")
    assert await petrov.input_value("#pref-zone") == "Asia/Tokyo"  # the browser's, until he chooses

    # The supervisor's dashboard in his language, its hours in his zone (Moscow: UTC+3).
    await choose(served, "Смирнов", "en", "Europe/Moscow")
    head, _ = await log_in(browser, served, "Смирнов", locale="ru-RU")
    await head.click("#dashboard-link")
    await expect(head.locator("#db-hours tbody tr")).to_have_count(24)
    await expect(head.locator("#db-zone")).to_have_text("Europe/Moscow")
    await expect(head.locator("#db-live")).to_have_text("updates: connected")
    assert await head.title() == "Priyom — supervisor dashboard"
    first = head.locator("#db-hours tbody tr").first
    hour = datetime.fromisoformat((await first.get_attribute("data-hour")).replace("Z", "+00:00"))
    assert await first.locator("td.hour").text_content() == hour.astimezone(ZoneInfo("Europe/Moscow")).strftime("%H:%M")
    await expect(head.locator('#db-teams tr[data-team="sales"] td.open a')).to_have_attribute(
        "aria-label", "Open at sales: 1")
    assert petrov.errors == [] and head.errors == []


async def test_the_dead_letter_page_speaks_the_admins_language(served: Served, browser) -> None:  # noqa: F811
    made = await served.http.post("/api/v1/staff", json={"name": "Админ", "role": "admin", "teams": []},
                                  headers={"Authorization": f"Bearer {ADMIN}"})
    assert made.status_code == 201, made.text
    served.tokens["Админ"] = made.json()["token"]
    await choose(served, "Админ", "en", "UTC")
    page, _ = await log_in(browser, served, "Админ", locale="ru-RU")
    await page.click("#dead-letters-link")
    await expect(page.locator("#dl-total")).to_have_text("no messages")
    assert await page.title() == "Priyom — dead letters"
    assert await page.get_attribute("#dl-service", "placeholder") == "any"
    # Nothing on it is Russian any more: no letters, so every word is the page's own.
    body = await page.inner_text("body")
    assert "Replay the selected" in body and not re.search("[\u0400-\u04ff]", body.replace("Админ", ""))
    assert page.errors == []
