"""The account's new-request form in headless Chromium, under the portal's CSP, on SQLite and PostgreSQL and the
real broker: a signed-in client types and the knowledge base's articles appear as they type (the clients'
article too, never an internal one), "this helped" counts the page as deflected, and the one button sends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from priyom_contracts import ContactReceived, Topology
from priyom_kit import HttpClient
from priyom_portal.app import create_app
from priyom_portal.peers import Cards, Requests
from priyom_portal.settings import PortalSettings
from priyom_portal.tables import kb_suggestion_sessions
from priyom_testing.browser import chromium_page, needs_chromium, served

from .account_peers import Directory
from .conftest import portal_parts, write
from .test_account import SECRET, Portal, code_in
from .test_kb_groups import contract

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (requirements-dev)")
expect = playwright_api.expect
pytestmark = needs_chromium(timeout=180)
expect.set_options(timeout=20_000)


@pytest.fixture
async def portal(settings: PortalSettings, amqp_url: str, tmp_path: Path) -> AsyncIterator[Portal]:
    """The portal on a real port (relative links), its peers the test's directory, its bus the real broker."""
    directory = Directory()
    parts = portal_parts(settings.model_copy(update={
        "session_secret": SecretStr(SECRET), "cookie_secure": False, "public_url": "", "blob_dir": tmp_path / "b"}))
    peer = HttpClient(base_url="http://peers.test", transport=httpx.ASGITransport(app=directory.app()))
    account = parts.state["account"]
    account.cards, account.requests = Cards(peer), Requests(peer)
    await peer.open()
    connection = await aio_pika.connect(amqp_url)
    try:
        async with served(create_app(parts)) as url, connection, httpx.AsyncClient(base_url=url) as http:
            yield Portal(http, parts, directory, await connection.channel(), Topology(settings.bus_prefix))
    finally:
        await peer.close()


async def test_articles_come_while_the_client_types_and_the_button_sends(portal: Portal) -> None:
    printer = await write(portal.http, "Принтер не печатает", "Проверьте, что в лотке есть бумага.")
    await write(portal.http, "Принтер по договору: выезд инженера", "Инженер приедет за день.",
                           visibility="clients")
    await write(portal.http, "Принтеры: регламент для сотрудников", "Сбросить спулер.", visibility="internal")
    card = portal.directory.card("client@example.ru")
    portal.directory.cards["client@example.ru"] = card.model_copy(update={"contracts": [contract()]})
    base = str(portal.http.base_url).rstrip("/")

    async with chromium_page() as (page, problems):
        await page.goto(f"{base}/account/new-request")  # signed out: the sign-in page first
        await page.fill("input[name=identifier]", "client@example.ru")
        await page.click("button[type=submit]")
        await expect(page.locator("input[name=code]")).to_be_visible()
        await page.fill("input[name=code]", code_in(await portal.delivered_code()))
        await page.click("button[type=submit]")
        await page.goto(f"{base}/account/new-request")
        key = await page.get_attribute("form.new-request input[name=key]", "value")

        offered = page.locator("#suggestions li a")
        assert await page.locator("#suggestions").is_hidden(), "nothing offered before the customer writes"
        await expect(page.locator("form.new-request button[name=step]")).to_have_text("Отправить обращение")
        await page.fill("form.new-request input[name=subject]", "Срочно")
        await page.locator("form.new-request textarea[name=text]").press_sequentially("принтеры не печата")
        await expect(offered).to_have_text(["Принтер не печатает", "Принтер по договору: выезд инженера"])
        await page.locator("form.new-request textarea[name=text]").fill("погода на завтра")
        await expect(page.locator("#suggestions")).to_be_hidden()  # nothing matches: the box goes away
        await page.locator("form.new-request textarea[name=text]").fill("Принтеры в бухгалтерии не печатают")
        await expect(offered).to_have_count(2)

        await page.click(f'#suggestions li[data-article="{printer}"] button')  # "this helped"
        await expect(page.locator(".feedback")).to_have_text("Спасибо за отзыв!")
        async with portal.parts.state["portal"].database.sessions() as session:
            deflected = (await session.execute(select(kb_suggestion_sessions.c.helped_article_id)
                                               .where(kb_suggestion_sessions.c.session_id == key))).scalar_one()
        assert deflected == printer, "the page counts as deflected"

        await page.go_back()
        await page.locator("form.new-request textarea[name=text]").fill("Принтеры в бухгалтерии не печатают")
        await page.click("form.new-request button[name=step]")  # one click: sent, no "next" step
        await expect(page.locator("p.sent")).to_be_visible()
        assert problems == [], "the CSP let the script and its fetches run, and nothing failed"

    message = await portal.next_message("identity.contacts")
    assert message is not None
    event = ContactReceived.model_validate(json.loads(message.body))
    assert (event.channel, event.contact.body) == ("portal", "Принтеры в бухгалтерии не печатают")
    assert str(event.contact.sender.email) == "client@example.ru"
