"""Deflection end to end, in headless Chromium: the web form (intake-web) offers the knowledge base's articles
(the portal) while the customer types, across origins under both services' policies (the form's CSP
connect-src, the portal's CORS), and "this helped" reaches the portal's deflection rate. Both services run as
real processes on SQLite and their own bus prefix."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from priyom_kit.pytest_plugin import delete_prefixed
from priyom_testing.browser import chromium_page, needs_chromium
from priyom_testing.ports import free_port
from priyom_testing.stack import Stack, stack_env

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (requirements-dev)"
)
expect = playwright_api.expect
pytestmark = [pytest.mark.e2e, *needs_chromium(timeout=180)]
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def form_and_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("kb-stack")
    prefix = f"e2ekb{uuid.uuid4().hex[:8]}."
    env = stack_env(
        os.environ,
        workdir=workdir,
        prefix=prefix)
    stack = Stack(env=env, workdir=workdir)
    # Both addresses are known before either starts: each names the other. Tickets gets an address too (the
    # form's CSP names it), though it is not started: the form is not sent here.
    for service in ("intake-web", "portal", "tickets"):
        stack.ports[service] = free_port()
        env[f"{service.upper().replace('-', '_')}_PORT"] = str(stack.ports[service])
    env.update(
        INTAKE_WEB_KB_URL=stack.url("portal"),
        PORTAL_CORS_ORIGINS=f'["{stack.url("intake-web")}"]',
        PORTAL_DEFLECTION_REFRESH_S="0.2",
    )
    try:
        stack.migrate()
        stack.start(["intake-web", "portal"])
        yield stack
    finally:
        stack.stop()
        asyncio.run(delete_prefixed(env.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), prefix))


async def test_the_form_offers_articles_while_the_customer_types(form_and_portal: Stack) -> None:
    stack = form_and_portal
    async with httpx.AsyncClient(base_url=stack.url("portal"), headers=stack.admin_headers) as portal:
        for title, visibility in (
            ("Принтер не печатает", "public"),
            ("Принтеры: регламент инженеров", "internal"),
        ):
            made = await portal.post(
                "/api/v1/kb/articles",
                json={
                    "title": title,
                    "body": "Проверьте бумагу; принтеры не печатают без неё.",
                    "visibility": visibility,
                    "status": "published",
                },
            )
            assert made.status_code == 201, made.text
    async with chromium_page() as (page, problems):
        await page.goto(stack.url("intake-web") + "/")
        await page.type("#f-message", "Добрый день! У нас принтеры не печатают", delay=20)
        offered = page.locator("#kb-suggestions li a")
        await expect(offered).to_have_text(["Принтер не печатает"])  # the internal one is not offered
        assert (await offered.get_attribute("href")).startswith(stack.url("portal") + "/kb/")
        await page.click("#kb-suggestions button.helped")
        await expect(page.locator("#kb-suggestions .kb-thanks")).to_be_visible()
        assert problems == []
    async with httpx.AsyncClient(base_url=stack.url("portal")) as portal:
        for _ in range(50):  # the gauges are read from the database every PORTAL_DEFLECTION_REFRESH_S
            text = (await portal.get("/metrics")).text
            if re.search(r"^priyom_kb_deflection_rate 1\.0$", text, re.M):
                break
            await asyncio.sleep(0.1)
        assert re.search(r"^priyom_kb_deflected_sessions 1\.0$", text, re.M), text[-2000:]
        assert re.search(r"^priyom_kb_deflection_rate 1\.0$", text, re.M)
