"""The agent console in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

The service runs as it does in production: uvicorn on a real port, the real broker and database, staff
accounts with their own tokens made through the admin API. Tickets arrive as routed contacts on the bus.
Screenshots go to ``PRIYOM_TEST_ARTIFACTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from priyom_contracts import AttachmentRef, CallEvent, CallState, ClientMatch, ContactType, MatchKind, utcnow
from priyom_kit import ServiceParts
from priyom_kit.blobs import FileBlobStore
from priyom_kit.db import Database
from priyom_tickets import tables
from priyom_tickets.app import build, create_app
from priyom_tickets.settings import TicketsSettings

from .test_client_card import SERVICE_TOKENS, serve_identity

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (requirements-dev)")
expect = playwright_api.expect

CHROMIUM = os.environ.get("PRIYOM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"no Chromium at {CHROMIUM}: run scripts/ensure-services.sh chromium "
                              "(apt-get install chromium chromium-driver) or set PRIYOM_CHROMIUM"),
    pytest.mark.timeout(180),
]

ADMIN = "console-test-admin-token"
#: Long enough for a loaded two-core machine; the console itself answers in milliseconds.
WAIT_MS = 15_000
expect.set_options(timeout=WAIT_MS)


@dataclass
class Served:
    parts: ServiceParts
    database: Database
    url: str
    http: httpx.AsyncClient
    tokens: dict[str, str]

    async def ticket(self, **kwargs) -> str:  # noqa: ANN003 - make_routed's keywords
        """Publish a routed contact on the bus and wait until the service made it a ticket; its number."""
        event = kwargs.pop("make")(**kwargs)
        await self.parts.bus.publish(event)
        for _ in range(300):
            found = await self.http.get(f"/api/v1/contacts/{event.contact.contact_id}/ticket",
                                         headers={"Authorization": f"Bearer {ADMIN}"})
            if found.status_code == 200:
                return found.json()["number"]
            await asyncio.sleep(0.05)
        raise AssertionError("the routed contact did not become a ticket")


@pytest.fixture
def identity_url() -> str | None:
    """No identity by default: the client panel shows what tickets knows (a test class may start one)."""
    return None


@pytest.fixture
def telephony_url() -> str | None:
    """No intake-telephony by default: no click-to-call (test_calls_browser.py starts one)."""
    return None


@pytest.fixture
def portal_url() -> str | None:
    """No portal by default: no knowledge base in the console (test_kb_panel_browser.py starts one)."""
    return None


@pytest.fixture
async def served(migrated_url: str, cleanup_bus: str, amqp_url: str, tmp_path: Path, database: Database,
                 identity_url: str | None, telephony_url: str | None, portal_url: str | None) -> AsyncIterator[Served]:
    settings = TicketsSettings(TICKETS_DATABASE_URL=migrated_url, PRIYOM_BUS_PREFIX=cleanup_bus,
                               AMQP_URL=amqp_url, PRIYOM_BLOB_DIR=str(tmp_path / "blobs"),
                               PRIYOM_ADMIN_TOKEN=ADMIN, timezone="UTC", identity_url=identity_url,
                               telephony_url=telephony_url, portal_url=portal_url,
                               PRIYOM_SERVICE_TOKENS=SERVICE_TOKENS)
    parts = build(settings)
    # Keep-alive longer than any wait in a test: a connection the server closed after its default 5 s idle, reused
    # by the test's client at that moment, fails the next request with a ReadError (seen in CI).
    server = uvicorn.Server(uvicorn.Config(create_app(parts), host="127.0.0.1", port=0, lifespan="on",
                                           log_config=None, access_log=False, timeout_keep_alive=120))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            tokens = {}
            for name, role, teams in (("Иванова", "agent", ["service"]), ("Петров", "agent", ["sales"]),
                                      ("Смирнов", "supervisor", [])):
                made = await http.post("/api/v1/staff", json={"name": name, "role": role, "teams": teams},
                                       headers={"Authorization": f"Bearer {ADMIN}"})
                assert made.status_code == 201, made.text
                tokens[name] = made.json()["token"]
            yield Served(parts, database, url, http, tokens)
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PRIYOM_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def log_in(browser, served: Served, name: str, *, locale: str = "ru-RU",  # noqa: ANN001, ANN201 - playwright's
                 timezone_id: str | None = None):
    """A page logged in as ``name``. The browser speaks Russian unless told otherwise: an agent who never chose
    a language gets the browser's (test_i18n_browser.py), and these tests read the Russian console."""
    page = await browser.new_page(viewport={"width": 1366, "height": 900}, locale=locale, timezone_id=timezone_id)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    response = await page.goto(f"{served.url}/console")
    assert response.status == 200
    await page.fill("#token", served.tokens[name])
    await page.click("#login-button")
    await page.wait_for_selector("#app:not([hidden])", timeout=WAIT_MS)
    return page, response


async def row_numbers(page) -> list[str]:  # noqa: ANN001
    return await page.eval_on_selector_all("#tickets tbody tr", "rows => rows.map(r => r.dataset.number)")


async def test_agent_logs_in_opens_a_ticket_replies_and_moves_it_on(
    served: Served, browser, make_routed, artifacts: Path, tmp_path: Path
) -> None:
    blobs = FileBlobStore(tmp_path / "blobs")
    content = b"%PDF-1.4 the customer's invoice\n"
    blob_key = await blobs.put(content)
    hostile = '<img src=x id=injected onerror="document.title=\'owned\'">Не работает выгрузка'
    mine = await served.ticket(make=make_routed, channel="email", key="<v1@mail.example.ru>", subject=hostile,
                               team="service", assignee="Иванова", body="Отчёты не выгружаются с утра.\n<b>Срочно</b>",
                               attachments=[AttachmentRef(blob_key=blob_key, filename="счёт.pdf",
                                                          content_type="application/pdf", size=len(content))])
    await served.ticket(make=make_routed, channel="email", team="sales", subject="Коммерческое предложение",
                        type=ContactType.PURCHASE_INTEREST)

    page, response = await log_in(browser, served, "Иванова")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert await page.text_content("#whoami") == "Иванова · agent · service"

    # "Мои": her ticket, and not the sales team's.
    await page.wait_for_selector(f'#tickets tr[data-number="{mine}"]', timeout=WAIT_MS)
    assert await row_numbers(page) == [mine]
    row = page.locator(f'#tickets tr[data-number="{mine}"]')
    assert hostile in await row.text_content()  # the customer's markup is shown as text ...
    assert await page.locator("#injected").count() == 0  # ... and never becomes an element
    await page.click('#tabs button[data-queue="all"]')
    await expect(page.locator('#tabs button[data-queue="all"]')).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#tickets tbody tr")).to_have_count(1)
    assert await row_numbers(page) == [mine]

    await row.click()
    await page.wait_for_selector("#ticket:not([hidden])", timeout=WAIT_MS)
    await expect(page.locator("#t-number")).to_have_text(mine)
    assert "Отчёты не выгружаются с утра.\n<b>Срочно</b>" in await page.text_content("#t-thread")
    assert await page.locator("#t-thread b").count() == 0
    assert "счёт.pdf" in await page.text_content("#t-thread .attachment")
    async with page.expect_download() as download_info:
        await page.click("#t-thread .attachment")
    download = await download_info.value
    assert download.suggested_filename == "счёт.pdf"
    assert await asyncio.to_thread(Path(await download.path()).read_bytes) == content

    # The SLA: both deadlines counted down, neither late.
    await expect(page.locator("#sla-resolution")).to_have_text(re.compile("^осталось"))
    assert (await page.text_content("#sla-first-response")).startswith("осталось")
    assert await page.locator("#t-overdue").count() == 0

    # Only the moves the service-request lifecycle allows from "new".
    actions = await page.eval_on_selector_all("#action-buttons button", "bs => bs.map(b => b.dataset.action)")
    assert sorted(actions) == ["accept", "cancel"]

    # Before the agent writes: where the reply goes.
    await expect(page.locator("#reply-path")).to_have_text(re.compile("^Ответ уйдёт: email → anna@example.ru"))
    await page.fill("#reply-body", "Здравствуйте! Проверяем выгрузку, ответим до вечера.")
    await page.click("#reply-send")
    await expect(page.locator("#reply-status")).to_have_text("Ответ отправлен")
    await page.wait_for_selector("#t-thread li.outbound >> text=Проверяем выгрузку", timeout=WAIT_MS)
    # The first answer stopped the first-response clock.
    await expect(page.locator("#sla-first-response")).to_have_text(re.compile("^выполнено"))

    await page.click('#action-buttons button[data-action="accept"]')
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "accepted")
    await page.click('#action-buttons button[data-action="resolve"]')
    await page.select_option("#decision", "fixed")
    await page.fill("#decision-text", "Перезапустили службу выгрузки")
    await page.click("#decision-confirm")
    await expect(page.locator("#t-status")).to_have_attribute("data-status", "resolved")
    assert "Неисправность устранена" in await page.text_content("#t-flags")
    await page.screenshot(path=str(artifacts / "console-ticket.png"), full_page=True)
    assert (artifacts / "console-ticket.png").stat().st_size > 10_000

    # What the browser did is what the API holds.
    ticket = (await served.http.get(f"/api/v1/tickets/{mine}",
                                    headers={"Authorization": f"Bearer {ADMIN}"})).json()
    assert ticket["status"] == "resolved" and ticket["decision"] == "fixed"
    replies = [m for m in ticket["messages"] if m["kind"] == "reply"]
    assert [(m["channel"], m["author_name"]) for m in replies] == [("email", "Иванова")]
    assert [h["action"] for h in ticket["history"] if h["action"] in ("reply", "accept", "resolve")] == [
        "reply", "accept", "resolve"]
    assert await page.title() != "owned"
    assert page.errors == []


async def test_supervisor_sees_every_team_and_an_agent_of_another_team_does_not(
    served: Served, browser, make_routed, artifacts: Path
) -> None:
    service = await served.ticket(make=make_routed, team="service", subject="Сервисная заявка")
    sales = await served.ticket(make=make_routed, team="sales", subject="Интерес к покупке",
                                type=ContactType.PURCHASE_INTEREST)

    supervisor, _ = await log_in(browser, served, "Смирнов")
    await expect(supervisor.locator("#tickets tbody tr")).to_have_count(2)
    assert await row_numbers(supervisor) == [sales, service]
    assert await supervisor.get_attribute('#tabs button[data-queue="all"]', "aria-selected") == "true"
    await supervisor.screenshot(path=str(artifacts / "console-supervisor-queue.png"))

    other, _ = await log_in(browser, served, "Петров")
    await other.click('#tabs button[data-queue="all"]')
    await expect(other.locator("#tickets tbody tr")).to_have_count(1)
    assert await row_numbers(other) == [sales]
    # Even with the number typed in, the service team's ticket is not shown to him.
    await other.goto(f"{served.url}/console#/ticket/{service}")
    await expect(other.locator("#action-status")).to_contain_text("no ticket number")
    assert await other.text_content("#t-number") == ""


async def test_overdue_ticket_is_marked_in_the_queue_and_on_its_page(
    served: Served, browser, make_routed
) -> None:
    late = await served.ticket(make=make_routed, team="service", assignee="Иванова")
    # Time passes: both deadlines are behind us (the service computes them from its business calendar).
    past = utcnow() - timedelta(hours=1)
    async with served.database.sessions() as session:
        await session.execute(tables.tickets.update().where(tables.tickets.c.number == late).values(
            first_response_due_at=past - timedelta(hours=1), resolution_due_at=past))
        await session.commit()
    page, _ = await log_in(browser, served, "Иванова")
    row = page.locator(f'#tickets tr[data-number="{late}"]')
    await row.wait_for(timeout=WAIT_MS)
    assert "overdue" in (await row.get_attribute("class") or "")
    assert "просрочено" in await row.locator("td.deadline").text_content()
    await page.check("#f-overdue")
    async with page.expect_response(lambda response: "overdue=true" in response.url):
        await page.click("#filters button[type=submit]")
    await expect(page.locator("#tickets tbody tr")).to_have_count(1)
    # The scheduler marks the ticket overdue meanwhile and the live feed redraws the queue; the row is kept
    # through a redraw (test_a_live_redraw_keeps_the_rows_...), so one click opens the ticket.
    await row.click()
    await page.wait_for_selector("#t-overdue", timeout=WAIT_MS)
    await expect(page.locator("#sla-resolution")).to_have_text(re.compile("^просрочено"))
    assert "late" in (await page.get_attribute("#sla-resolution", "class") or "")


async def test_a_live_redraw_keeps_the_rows_under_the_agent_s_hands(
    served: Served, browser, make_routed
) -> None:
    """The live feed redraws the queue whenever a ticket changes. A row replaced between the press and the release
    of the button swallows the agent's click (a CI run lost one so), and a replaced row loses its ticked box and
    the focus: a redraw keeps each shown ticket's row and changes only the cells that changed."""
    first = await served.ticket(make=make_routed, team="service", assignee="Иванова", subject="Касса")
    second = await served.ticket(make=make_routed, team="service", assignee="Иванова", subject="Принтер")
    page, _ = await log_in(browser, served, "Иванова")
    await expect(page.locator("#tickets tbody tr")).to_have_count(2)
    await page.evaluate("() => { window.shownRows = [...document.querySelectorAll('#tickets tbody tr')]; }")
    await page.check(f'#tickets tr[data-number="{first}"] input.pick')
    async with served.database.sessions() as session:
        await session.execute(tables.tickets.update().where(tables.tickets.c.number == second).values(
            subject="Принтер не печатает"))
        await session.commit()

    third = await served.ticket(make=make_routed, team="service", assignee="Иванова", subject="Сканер")
    await expect(page.locator("#tickets tbody tr")).to_have_count(3)  # drawn by the live feed, not by a click
    kept = await page.evaluate("""() => window.shownRows.map((row) =>
        [row.dataset.number, row.isConnected && document.querySelector(`#tickets tr[data-number="${row.dataset.number}"]`) === row])""")
    assert sorted(kept) == sorted([[first, True], [second, True]])
    changed = page.locator(f'#tickets tr[data-number="{second}"]')
    await expect(changed.locator("td").nth(5)).to_have_text("Принтер не печатает")
    assert "Принтер не печатает" in (await changed.get_attribute("aria-label") or "")
    assert await page.is_checked(f'#tickets tr[data-number="{first}"] input.pick')
    assert await page.locator(f'#tickets tr[data-number="{third}"] input.pick').count() == 1
    assert await page.locator(f'#tickets tr[data-number="{second}"] input.pick').count() == 1
    assert page.errors == []


async def test_ringing_extension_pops_the_caller_up_with_a_button_to_the_open_ticket(
    served: Served, browser, make_routed
) -> None:
    if importlib.util.find_spec("priyom_tickets.agent_socket") is None:
        pytest.skip("this build has no /ws/agent socket yet")
    client_id = uuid.uuid4()
    number = await served.ticket(make=make_routed, team="service", client_id=client_id, first_contact=False,
                                 subject="Котёл не греет")
    async with served.database.sessions() as session:
        await session.execute(tables.staff.update().where(tables.staff.c.name == "Иванова").values(extension="101"))
        await session.commit()

    page, _ = await log_in(browser, served, "Иванова")
    await expect(page.locator("#popup-status")).to_contain_text("на связи")
    await served.parts.bus.publish(CallEvent(
        correlation_id=uuid.uuid4(), channel="phone", idempotency_key="pbx-1:c1:ringing:101", call_id="c1",
        state=CallState.RINGING, caller="+79160000000", caller_name="Анна <b>", agent="101",
        client=ClientMatch(client_id=client_id, display_name="ООО Ромашка", first_contact=False,
                           match=MatchKind.EXACT_PHONE)))
    card = page.locator('#popups .popup[data-call="c1"]')
    await card.wait_for(timeout=WAIT_MS)
    assert await card.locator(".caller").text_content() == "Анна <b> · +79160000000"
    assert "Клиент: ООО Ромашка" in await card.text_content()
    # The page confirmed it showed the pop-up: tickets timed ringing → shown.
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        for _ in range(50):
            metrics = (await http.get("/metrics")).text
            if "priyom_popup_shown_seconds_count 1.0" in metrics:
                break
            await asyncio.sleep(0.1)
    assert "priyom_popup_shown_seconds_count 1.0" in metrics
    await card.locator(f'button.open-ticket[data-number="{number}"]').click()
    await expect(page.locator("#t-number")).to_have_text(number)
    assert page.errors == []


async def test_agent_sends_a_file_schedules_a_call_back_and_fills_the_complaint_fields(
    served: Served, browser, make_routed, tmp_path: Path
) -> None:
    number = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова",
                                 type=ContactType.COMPLAINT, category="complaint", subject="Котёл протекает")
    page, _ = await log_in(browser, served, "Иванова")
    await page.goto(f"{served.url}/console#/ticket/{number}")
    await expect(page.locator("#t-number")).to_have_text(number)
    # A complaint's lifecycle starts with review, not with accept.
    actions = await page.eval_on_selector_all("#action-buttons button", "bs => bs.map(b => b.dataset.action)")
    assert sorted(actions) == ["cancel", "review"]

    scan = tmp_path / "акт осмотра.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    await page.fill("#reply-body", "Направляем акт осмотра.")
    await page.set_input_files("#reply-files", str(scan))
    await page.click("#reply-send")
    await expect(page.locator("#reply-status")).to_have_text("Ответ отправлен")
    await expect(page.locator("#t-thread li.outbound .attachment")).to_contain_text("акт осмотра.png")

    await page.fill("#activity-title", "Перезвонить клиенту после осмотра")
    await page.fill("#activity-due", "2030-01-15T10:30")
    await page.click("#activity-add")
    await expect(page.locator("#t-activities li")).to_contain_text("Перезвонить клиенту после осмотра")
    await page.click("#t-activities li button")
    await expect(page.locator("#t-activities li.done")).to_have_count(1)

    await page.fill("#field-claimed_amount", "15000.50")
    await page.fill("#field-product", "Котёл КС-20")
    await page.click("#fields-save")
    await expect(page.locator("#fields-status")).to_have_text("Поля сохранены")
    await page.fill("#field-claimed_amount", "-5")
    await page.click("#fields-save")
    await expect(page.locator("#fields-status")).to_contain_text("greater than or equal to 0")

    await page.click("#escalation-form >> xpath=.. >> summary")
    await page.select_option("#escalation-level", "vendor")
    await page.fill("#escalation-to", "ООО «ТеплоСервис», заявка 7781")
    await page.click("#escalation-send")
    await expect(page.locator("#t-flags")).to_contain_text("vendor → ООО «ТеплоСервис», заявка 7781")
    await expect(page.locator("#t-history")).to_contain_text("эскалация")

    ticket = (await served.http.get(f"/api/v1/tickets/{number}",
                                    headers={"Authorization": f"Bearer {ADMIN}"})).json()
    assert (ticket["escalation"], ticket["escalated_to"]) == ("vendor", "ООО «ТеплоСервис», заявка 7781")
    assert ticket["type_fields"] == {"claimed_amount": "15000.50", "product": "Котёл КС-20"}
    reply = next(m for m in ticket["messages"] if m["kind"] == "reply")
    assert [(a["filename"], a["size"], a["content_type"]) for a in reply["attachments"]] == [
        ("акт осмотра.png", scan.stat().st_size, "image/png")]
    [activity] = ticket["activities"]
    assert (activity["kind"], activity["owner"], activity["done_at"] is not None) == ("call_back", "Иванова", True)
    # The complaint is really a purchase: the type changes, the product is kept, the rest is dropped in history.
    await page.click("#retype summary")
    await page.select_option("#retype-type", "purchase_interest")
    await page.fill("#retype-note", "Клиент хочет новый котёл")
    await page.click("#retype-send")
    await expect(page.locator("#t-type")).to_have_text("интерес к покупке")
    await expect(page.locator("#t-history")).to_contain_text("тип изменён: рекламация → интерес к покупке")
    await expect(page.locator("#t-history")).to_contain_text(
        "поля убраны · убраны поля, которых нет у нового типа: claimed_amount")
    assert await page.input_value("#field-product") == "Котёл КС-20"
    actions = await page.eval_on_selector_all("#action-buttons button", "bs => bs.map(b => b.dataset.action)")
    assert sorted(actions) == ["accept", "cancel"]
    # The one failure the browser saw is the refused amount, answered 422 on purpose.
    assert [e for e in page.errors if "422" not in e] == []


class TestClientPanelWithIdentity:
    """The client panel with a real identity beside tickets (identity on a SQLite file of its own)."""

    @pytest.fixture
    async def identity_url(self, tmp_path: Path, cleanup_bus: str, amqp_url: str) -> AsyncIterator[str]:
        url = f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}"
        async with serve_identity(url, cleanup_bus, amqp_url, admin_token=ADMIN) as base:
            yield base

    async def test_the_panel_shows_the_organisation_and_a_person_s_phone(
        self, served: Served, identity_url: str, browser, make_routed
    ) -> None:
        async with httpx.AsyncClient(base_url=identity_url, timeout=10,
                                     headers={"Authorization": f"Bearer {ADMIN}"}) as identity:
            made = await identity.post("/api/v1/clients", json={
                "name": "ООО <b>Ромашка</b>", "sla_tier": "gold", "account_manager": "Кузнецова А.",
                "persons": [{"full_name": "Анна Петрова", "phones": ["8 916 555-44-33"]}]})
            assert made.status_code == 201, made.text
        number = await served.ticket(make=make_routed, client_id=uuid.UUID(made.json()["id"]),
                                     first_contact=False, team="service")
        page, _ = await log_in(browser, served, "Иванова")
        await page.goto(f"{served.url}/console#/ticket/{number}")
        await expect(page.locator("#t-card-fields")).to_contain_text("ООО <b>Ромашка</b>")  # as text
        await expect(page.locator("#t-card-persons")).to_contain_text("Анна Петрова")
        await expect(page.locator("#t-card-persons")).to_contain_text("+79165554433")
        # Each phone has its call button (click-to-call itself: test_calls_browser.py).
        await expect(page.locator('#t-card-persons button.call-out[data-number="+79165554433"]')).to_have_count(1)
        assert await page.locator("#t-card b").count() == 0
        assert page.errors == []


async def replies_on(served: Served, number: str) -> list[dict]:
    ticket = (await served.http.get(f"/api/v1/tickets/{number}", headers={"Authorization": f"Bearer {ADMIN}"})).json()
    return [m for m in ticket["messages"] if m["kind"] == "reply"]


async def test_a_double_click_and_a_retry_after_a_lost_answer_each_send_one_reply(
    served: Served, browser, make_routed
) -> None:
    number = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова")
    page, _ = await log_in(browser, served, "Иванова")
    await page.goto(f"{served.url}/console#/ticket/{number}")
    await expect(page.locator("#reply-path")).to_have_text(re.compile("^Ответ уйдёт"))
    keys: list[str] = []
    page.on("request", lambda r: keys.append(r.headers.get("idempotency-key")) if r.url.endswith("/replies")
            else None)

    await page.fill("#reply-body", "Первый ответ")
    await page.dblclick("#reply-send")
    await expect(page.locator("#reply-status")).to_have_text("Ответ отправлен")
    await page.wait_for_selector("#t-thread li.outbound >> text=Первый ответ", timeout=WAIT_MS)
    assert [m["body_text"] for m in await replies_on(served, number)] == ["Первый ответ"]

    # The server made the reply but its answer never reached the browser: Send again names the same key.
    lost: list[int] = []

    async def lose_the_answer(route) -> None:  # noqa: ANN001 - playwright's Route
        if not lost:
            lost.append((await route.fetch()).status)
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route("**/replies", lose_the_answer)
    await page.fill("#reply-body", "Второй ответ")
    await page.click("#reply-send")
    await expect(page.locator("#reply-status")).to_have_text(re.compile("^Не отправлено"))
    await expect(page.locator("#reply-send")).to_be_enabled()
    await page.click("#reply-send")
    await expect(page.locator("#reply-status")).to_have_text("Ответ отправлен")
    assert lost == [202]
    assert [m["body_text"] for m in await replies_on(served, number)] == ["Первый ответ", "Второй ответ"]
    assert len(keys) == 3 and keys[0] and keys[1] == keys[2] != keys[0], keys
    assert await page.input_value("#reply-body") == ""


async def test_a_note_is_shown_as_internal_and_its_mention_reaches_the_colleagues_console(
    served: Served, browser, make_routed
) -> None:
    number = await served.ticket(make=make_routed, channel="email", team="service", assignee="Иванова")
    async with served.database.sessions() as session:
        await session.execute(tables.staff.update().where(tables.staff.c.name == "Иванова").values(extension="101"))
        await session.commit()
    agent, _ = await log_in(browser, served, "Иванова")
    await expect(agent.locator("#popup-status")).to_contain_text("на связи")
    assert await agent.locator("#mentions").is_hidden()

    supervisor, _ = await log_in(browser, served, "Смирнов")
    await supervisor.goto(f"{served.url}/console#/ticket/{number}")
    await expect(supervisor.locator("#t-number")).to_have_text(number)
    await supervisor.fill("#note-body", "@Иванова клиент просил не звонить до обеда")
    await supervisor.click("#note-add")
    await expect(supervisor.locator("#note-status")).to_have_text("Заметка добавлена, упомянуты: Иванова")
    note = supervisor.locator("#t-thread li.internal")
    await expect(note).to_have_count(1)
    assert "внутренняя заметка · Смирнов" in await note.locator(".meta").text_content()
    assert await note.evaluate("n => getComputedStyle(n).borderTopStyle") == "dashed"
    outbound = await supervisor.locator("#t-thread li.outbound").all_text_contents()
    assert outbound and not any("не звонить до обеда" in m for m in outbound), "nothing went to the customer"

    # Her console hears of it over its socket at once (the half-minute poll is the fallback).
    mention = agent.locator("#mention-list li")
    await expect(mention).to_have_count(1, timeout=5_000)
    assert "Смирнов: @Иванова клиент просил" in await mention.text_content()
    await mention.locator("a.mention-open").click()
    await expect(agent.locator("#t-number")).to_have_text(number)
    await expect(agent.locator("#t-thread li.internal .body")).to_have_text(
        "@Иванова клиент просил не звонить до обеда")
    await mention.locator("button.mention-seen").click()
    await expect(agent.locator("#mentions")).to_be_hidden()

    # An agent of another team can neither write nor read the ticket's notes.
    other = {"Authorization": f"Bearer {served.tokens['Петров']}"}
    assert (await served.http.post(f"/api/v1/tickets/{number}/notes", headers=other, json={"body": "x"})
            ).status_code == 404
    assert (await served.http.get(f"/api/v1/tickets/{number}/notes", headers=other)).status_code == 404
    assert [m for m in (await served.http.get(f"/api/v1/tickets/{number}",
                                              headers={"Authorization": f"Bearer {ADMIN}"})).json()["messages"]
            if m["kind"] == "reply"] == []
    assert agent.errors == [] and supervisor.errors == []


async def test_an_agent_takes_a_ticket_then_transfers_it_to_another_team(
    served: Served, browser, make_routed
) -> None:
    from priyom_contracts import TicketAssigned  # noqa: PLC0415 - only this test reads the outbox's events

    number = await served.ticket(make=make_routed, channel="email", team="service", subject="Касса не печатает")
    page, _ = await log_in(browser, served, "Иванова")
    await page.goto(f"{served.url}/console#/ticket/{number}")
    await expect(page.locator("#t-assignee")).to_have_text("не назначен")
    await page.click("#take")
    await expect(page.locator("#t-assignee")).to_have_text("Иванова")
    await expect(page.locator("#assign-status")).to_have_text("Исполнитель: Иванова (service)")

    await page.fill("#assign-to", "Петров")
    await page.fill("#assign-team", "sales")
    await page.click("#assign-send")
    # Another team's ticket is no longer hers to see: the console goes back to her queue.
    await expect(page.locator("#queue")).to_be_visible()
    ticket = (await served.http.get(f"/api/v1/tickets/{number}", headers={"Authorization": f"Bearer {ADMIN}"})).json()
    assert (ticket["assignee"], ticket["team"]) == ("Петров", "sales")
    async with served.database.sessions() as session:
        events = [r["payload"] for r in (await session.execute(tables.ticket_outbox.select())).mappings()
                  if r["event_type"] == TicketAssigned.type_name()]
    assert [(e["old_assignee"], e["assignee"], e["team"]) for e in events] == [
        (None, "Иванова", "service"), ("Иванова", "Петров", "sales")], "the router hears each move"

    other, _ = await log_in(browser, served, "Петров")
    await expect(other.locator(f'#tickets tr[data-number="{number}"]')).to_have_count(1)
