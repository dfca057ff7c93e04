"""The form page in a real headless Chromium (Debian's ``chromium``, driven by Playwright), as a visitor uses
it: served by uvicorn on a real port under its Content-Security-Policy, the proof of work solved by the
page's own script, the submission published on the real broker. A CSP that blocked the page's script, or a
challenge the script could not solve, fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest

from priyom_contracts import Topology
from priyom_intake_web.app import build
from priyom_intake_web.settings import IntakeWebSettings
from priyom_kit import build_app
from priyom_testing.browser import CHROMIUM, needs_chromium, served

from .conftest import ContactsQueue

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (requirements-dev)")
expect = playwright_api.expect
pytestmark = needs_chromium(timeout=120)
expect.set_options(timeout=20_000)


@pytest.fixture
async def form(settings: IntakeWebSettings, amqp_url: str) -> AsyncIterator[tuple[str, ContactsQueue]]:
    guarded = settings.model_copy(update={"challenge": "pow", "challenge_difficulty": 14,
                                          "rate_limit_per_ip": "10/minute"})
    async with served(build_app(build(guarded))) as url, await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        name = Topology(settings.bus_prefix).queue("identity.contacts").name
        yield url, ContactsQueue(await channel.get_queue(name, ensure=True))


async def test_a_visitor_submits_the_form_under_its_csp(form: tuple[str, ContactsQueue], tmp_path: Path) -> None:
    url, contacts = form
    upload = tmp_path / "чек.txt"
    upload.write_text("касса не печатает", encoding="utf-8")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            await page.goto(url + "/")
            await page.fill("#f-name", "Иван Петров")
            await page.fill("#f-email", "ivan.petrov@example.ru")
            await page.fill("#f-message", "Не печатает чеки после обновления")
            await page.set_input_files("#f-attachments", str(upload))
            await page.check("#f-consent")
            trap = await page.locator("#f-website").bounding_box()
            assert trap is not None and trap["x"] + trap["width"] <= 0  # the honeypot is off screen
            await page.click("button[type=submit]")

            await expect(page.locator("#result")).to_be_visible()
            event, _ = await contacts.next(timeout=10)
            assert event.contact.sender.email == "ivan.petrov@example.ru"
            assert [a.filename for a in event.contact.attachments] == ["чек.txt"]
            # Failed loads are expected (no favicon, no tickets to poll); a refused script or style is not.
            assert [p for p in problems if not p.startswith("Failed to load resource")] == []
        finally:
            await browser.close()
