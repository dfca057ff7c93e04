"""The knowledge base in the agent console, in headless Chromium: the panel in the ticket view asks tickets, tickets
passes the search to a real portal with the agent's own token (so the portal, checking that token at this tickets
as every service does, finds internal articles too), and the buttons put a link or an excerpt into the reply box
without sending anything. Skipped where the portal is not installed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from priyom_kit import HttpClient
from priyom_kit.staff_auth import StaffVerifier
from priyom_testing.browser import served as serving

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
    replies_on,
    served,
    telephony_url,
)

portal_app = pytest.importorskip("priyom_portal.app", reason="the portal is not installed")
portal_settings = pytest.importorskip("priyom_portal.settings")
portal_store = pytest.importorskip("priyom_portal.store")

PORTAL_ADMIN = "portal-admin-token-for-tests"
PUBLIC_URL = "https://help.example"


@dataclass
class Portal:
    app: FastAPI
    url: str
    http: httpx.AsyncClient

    async def write(self, title: str, body: str, visibility: str = "public", status: str = "published") -> dict:
        made = await self.http.post("/api/v1/kb/articles", headers={"Authorization": f"Bearer {PORTAL_ADMIN}"},
                                    json={"title": title, "body": body, "visibility": visibility, "status": status,
                                          "language": "ru"})
        assert made.status_code == 201, made.text
        return made.json()

    def check_staff_at(self, tickets: HttpClient) -> None:
        """Staff tokens checked at this tickets' ``GET /api/v1/me``, as ``PRIYOM_STAFF_URL`` makes the portal do."""
        self.app.state.authenticator = StaffVerifier(admin_token=SecretStr(PORTAL_ADMIN), service_tokens={},
                                                     staff=tickets)


@pytest.fixture
async def portal_service(tmp_path: Path, cleanup_bus: str, amqp_url: str) -> AsyncIterator[Portal]:
    """The portal on a real port, on its own SQLite database."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}"
    await asyncio.to_thread(portal_store.migrate_database, database_url)
    settings = portal_settings.PortalSettings(
        PORTAL_DATABASE_URL=database_url, AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus,
        PRIYOM_ADMIN_TOKEN=PORTAL_ADMIN, PRIYOM_SERVICE_TOKENS=json.dumps({}), public_url=PUBLIC_URL)
    app = portal_app.create_app(portal_app.build(settings))
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield Portal(app, url, http)


@pytest.fixture
async def staff_directory(served: Served) -> AsyncIterator[HttpClient]:  # noqa: F811 - fixture
    tickets = HttpClient(base_url=served.url)
    await tickets.open()
    try:
        yield tickets
    finally:
        await tickets.close()


def bearer(served: Served, name: str) -> dict[str, str]:  # noqa: F811 - fixture
    return {"Authorization": f"Bearer {served.tokens[name]}"}


async def test_without_a_portal_the_search_says_why(served: Served) -> None:  # noqa: F811 - fixture
    answer = await served.http.get("/api/v1/kb/search", params={"q": "принтер"}, headers=bearer(served, "Иванова"))
    assert answer.status_code == 503 and "TICKETS_PORTAL_URL" in answer.json()["detail"]
    assert (await served.http.get("/api/v1/kb/search", params={"q": "принтер"})).status_code == 401


class TestKnowledgeBasePanel:
    @pytest.fixture
    def portal_url(self, portal_service: Portal) -> str:
        return portal_service.url

    async def test_the_agent_s_token_goes_to_the_portal(
        self, served: Served, portal_service: Portal, staff_directory: HttpClient  # noqa: F811 - fixtures
    ) -> None:
        portal_service.check_staff_at(staff_directory)
        public = await portal_service.write("Принтер не печатает", "Проверьте, что в лотке есть бумага.")
        internal = await portal_service.write("Принтеры: регламент для сотрудников",
                                              "Если принтеры не печатают, сбросьте очередь печати.",
                                              visibility="internal")
        await portal_service.write("Принтер: черновик", "Принтер не печатает.", status="draft")

        answer = await served.http.get("/api/v1/kb/search", params={"q": "принтеры не печатают"},
                                       headers=bearer(served, "Иванова"))
        assert answer.status_code == 200, answer.text
        found = {hit["id"]: hit for hit in answer.json()["items"]}
        # The internal article is there only because the portal read the agent's token as staff's: anonymously
        # it answers the public one alone (and never a draft).
        assert set(found) == {public["id"], internal["id"]}
        assert found[public["id"]]["url"] == f"{PUBLIC_URL}/kb/{public['id']}"
        anonymous = await portal_service.http.get("/api/v1/kb/search", params={"q": "принтеры не печатают"})
        assert [hit["id"] for hit in anonymous.json()["items"]] == [public["id"]]

        # The portal's refusal of a query is passed on; one it cannot answer the agent's token for is a 502, so
        # the console does not log the agent out over the portal's view of their token.
        too_long = await served.http.get("/api/v1/kb/search", params={"q": "п" * 201}, headers=bearer(served, "Иванова"))
        assert too_long.status_code == 422
        async def nobody(_: str) -> None:
            return None

        portal_service.app.state.authenticator = nobody
        refused = await served.http.get("/api/v1/kb/search", params={"q": "принтер"}, headers=bearer(served, "Иванова"))
        assert refused.status_code == 502 and refused.json()["detail"] == "invalid token", refused.text

    async def test_the_agent_finds_an_article_and_inserts_its_link_and_an_excerpt_into_the_reply(
        self, served: Served, portal_service: Portal, staff_directory: HttpClient, browser, make_routed,  # noqa: F811
    ) -> None:
        portal_service.check_staff_at(staff_directory)
        public = await portal_service.write("Принтер не печатает", "Проверьте, что в лотке есть бумага.")
        await portal_service.write("Принтеры: регламент для сотрудников",
                                   "Если принтеры не печатают, сбросьте очередь печати.", visibility="internal")
        number = await served.ticket(make=make_routed, channel="email", subject="Принтер", body="Принтер в бухгалтерии не печатает",
                                     team="service", assignee="Иванова")

        page, _ = await log_in(browser, served, "Иванова")
        await page.goto(f"{served.url}/console#/ticket/{number}")
        await expect(page.locator("#t-number")).to_have_text(number)
        await page.click("#kb-box summary")
        await page.fill("#kb-query", "принтеры не печатают")
        await page.click("#kb-search")
        results = page.locator("#kb-results li")
        await expect(results).to_have_count(2)
        await expect(page.locator("#kb-status")).to_have_text("Найдено статей: 2")
        assert sorted(await page.locator("#kb-results .kb-title").all_text_contents()) == [
            "Принтер не печатает", "Принтеры: регламент для сотрудников"]

        await page.fill("#reply-body", "Здравствуйте!")
        article = page.locator(f'#kb-results li[data-article="{public["id"]}"]')
        await article.locator(".kb-insert-link").click()
        await expect(page.locator("#reply-body")).to_have_value(
            f"Здравствуйте!\n\nПринтер не печатает: {PUBLIC_URL}/kb/{public['id']}")
        await article.locator(".kb-insert-excerpt").click()
        reply = await page.input_value("#reply-body")
        assert reply.endswith("\n\nПроверьте, что в лотке есть бумага."), reply
        await expect(page.locator("#kb-status")).to_have_text("Вставлено в ответ: проверьте и отправьте")

        # Nothing was sent: the agent reads, edits and sends the reply as any other.
        assert await replies_on(served, number) == []
        await page.click("#reply-send")
        await expect(page.locator("#reply-status")).to_have_text("Ответ отправлен")
        assert [m["body_text"] for m in await replies_on(served, number)] == [reply]

        # A query nothing matches says so.
        await page.fill("#kb-query", "кофемашина")
        await page.click("#kb-search")
        await expect(page.locator("#kb-status")).to_have_text("Ничего не найдено")
        await expect(results).to_have_count(0)
        assert page.errors == []
