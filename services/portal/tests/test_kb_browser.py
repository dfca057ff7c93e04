"""The knowledge base's pages in a real headless Chromium (Debian's ``chromium``, driven by Playwright), as a
customer uses them: served by uvicorn on a real port under their Content-Security-Policy, a Russian inflected
query typed into the search box, the article opened, "it helped" pressed; an internal article is not there."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from priyom_portal.app import create_app
from priyom_portal.settings import PortalSettings
from priyom_testing.browser import chromium_page, needs_chromium, served

from .conftest import ADMIN, portal_parts, write

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (requirements-dev)"
)
expect = playwright_api.expect
pytestmark = needs_chromium(timeout=120)
expect.set_options(timeout=20_000)


@pytest.fixture
async def portal(settings: PortalSettings) -> AsyncIterator[str]:
    """The portal on a real port, its links relative (no PORTAL_PUBLIC_URL), so the browser stays on it."""
    app: FastAPI = create_app(portal_parts(settings.model_copy(update={"public_url": ""})))
    async with served(app) as url:
        yield url


async def test_a_customer_finds_reads_and_rates_an_article(portal: str) -> None:
    async with httpx.AsyncClient(base_url=portal) as http:
        printer = await write(http, "Принтер не печатает", "Проверьте, что в лотке есть **бумага**.")
        await write(
            http,
            "Принтеры: внутренний регламент",
            "Принтеры не печатают — сбросить спулер.",
            visibility="internal",
        )
    async with chromium_page() as (page, problems):
        await page.goto(portal + "/kb")
        await page.fill("input[name=q]", "принтеры не печатают")
        await page.press("input[name=q]", "Enter")
        results = page.locator("ol.results li a")
        await expect(results).to_have_count(1)  # the internal article is not offered to a customer
        await expect(results).to_have_text("Принтер не печатает")
        await results.click()
        await expect(page.locator("article h1")).to_have_text("Принтер не печатает")
        await expect(page.locator("article strong")).to_have_text("бумага")
        await page.click("button[value=yes]")
        await expect(page.locator(".feedback")).to_have_text("Спасибо за отзыв!")
        assert problems == []
    async with httpx.AsyncClient(base_url=portal) as http:
        counts = (await http.get(f"/api/v1/kb/articles/{printer}", headers=ADMIN)).json()
    assert (counts["helped"], counts["not_helped"]) == (1, 0)
