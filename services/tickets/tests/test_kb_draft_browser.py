"""A resolved ticket's answer as a draft article, in headless Chromium: the console's button on a resolved ticket
asks tickets, tickets writes the ticket's subject and resolution into an internal draft in a real portal with the
agent's own token (the portal, checking that token at this tickets, records the agent as its author), and the
console links the article. Skipped where the portal is not installed."""

from __future__ import annotations

import pytest

from priyom_kit import HttpClient

from .test_console_browser import (  # noqa: F401 - the fixtures are used by name
    ADMIN,
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
from .test_kb_panel_browser import PORTAL_ADMIN, PUBLIC_URL, Portal, bearer, portal_service, staff_directory  # noqa: F401

RESOLUTION = "Заменили картридж и сбросили очередь печати; печать восстановлена."


async def resolve(served: Served, number: str, who: str = "Иванова") -> None:  # noqa: F811 - fixture type
    for move in ({"action": "accept"}, {"action": "resolve", "decision": "fixed", "decision_text": RESOLUTION}):
        moved = await served.http.post(f"/api/v1/tickets/{number}/transitions", json=move, headers=bearer(served, who))
        assert moved.status_code == 200, moved.text


async def test_without_a_portal_no_draft_is_made(served: Served, make_routed) -> None:  # noqa: F811, ANN001
    number = await served.ticket(make=make_routed, channel="email", subject="Принтер", team="service",
                                 assignee="Иванова")
    answer = await served.http.post(f"/api/v1/tickets/{number}/kb-draft", json={}, headers=bearer(served, "Иванова"))
    assert answer.status_code == 503 and "TICKETS_PORTAL_URL" in answer.json()["detail"]


class TestDraftFromResolution:
    @pytest.fixture
    def portal_url(self, portal_service: Portal) -> str:  # noqa: F811
        return portal_service.url

    async def test_the_agent_turns_a_resolution_into_a_draft_article(
        self, served: Served, portal_service: Portal, staff_directory: HttpClient, browser, make_routed,  # noqa: F811
    ) -> None:
        portal_service.check_staff_at(staff_directory)
        number = await served.ticket(make=make_routed, channel="email", subject="Принтер в бухгалтерии не печатает",
                                     team="service", assignee="Иванова")
        # Not resolved yet: nothing to write up, and a colleague of another team cannot reach the ticket at all.
        early = await served.http.post(f"/api/v1/tickets/{number}/kb-draft", json={}, headers=bearer(served, "Иванова"))
        assert early.status_code == 409 and "not resolved" in early.json()["detail"]
        other = await served.http.post(f"/api/v1/tickets/{number}/kb-draft", json={}, headers=bearer(served, "Петров"))
        assert other.status_code == 404

        page, _ = await log_in(browser, served, "Иванова")
        await expect(page.locator("#kb-editor-link")).to_be_visible()  # the portal is configured: the editor is offered
        await page.goto(f"{served.url}/console#/ticket/{number}")
        await expect(page.locator("#t-number")).to_have_text(number)
        await expect(page.locator("#kb-draft-bar")).to_be_hidden()
        await resolve(served, number)
        await page.reload()
        await expect(page.locator("#t-status")).to_have_attribute("data-status", "resolved")
        await expect(page.locator("#kb-draft-bar")).to_be_visible()
        await page.click("#kb-draft")
        link = page.locator("#kb-draft-link")
        await expect(link).to_have_text("Принтер в бухгалтерии не печатает")
        href = await link.get_attribute("href")
        assert href.startswith("/console/kb#/article/"), "the draft opens in the console's editor"
        article_id = int(href.rsplit("/", 1)[1])
        await expect(page.locator("#kb-draft-status")).to_contain_text(f"Черновик статьи №{article_id} создан")

        # In the portal: an internal draft by the agent, the decision and the team's words its body.
        article = (await portal_service.http.get(f"/api/v1/kb/articles/{article_id}",
                                                 headers={"Authorization": f"Bearer {PORTAL_ADMIN}"})).json()
        assert (article["status"], article["visibility"], article["created_by"]) == ("draft", "internal", "Иванова")
        assert article["title"] == "Принтер в бухгалтерии не печатает"
        assert article["body"] == f"**Неисправность устранена**\n\n{RESOLUTION}"
        anonymous = await portal_service.http.get(f"/api/v1/kb/articles/{article_id}")
        assert anonymous.status_code == 404, "a draft is not the public's"

        # The editor: the draft in the form, rewritten and published for everyone; its history has both revisions.
        await page.goto(f"{served.url}{href}")
        await expect(page.locator("#kb-title")).to_have_value("Принтер в бухгалтерии не печатает")
        await expect(page.locator("#kb-edit-heading")).to_have_text(f"Статья №{article_id}, редакция 1")
        await expect(page.locator(f'#kb-articles tr[data-id="{article_id}"]')).to_contain_text("черновик")
        await page.fill("#kb-title", "Принтер не печатает после замены картриджа")
        await page.fill("#kb-body", "Сбросьте очередь печати: **Пуск → Принтеры → Очистить очередь**.")
        await page.select_option("#kb-visibility", "public")
        await page.select_option("#kb-status", "published")
        await page.click("#kb-save")
        await expect(page.locator("#kb-edit-status")).to_have_text("Сохранено: редакция 2")
        await expect(page.locator("#kb-revisions li")).to_have_count(2)
        await expect(page.locator("#kb-open")).to_have_attribute("href", f"{PUBLIC_URL}/kb/{article_id}")
        await expect(page.locator(f'#kb-articles tr[data-id="{article_id}"]')).to_contain_text("опубликована")
        published = (await portal_service.http.get(f"/api/v1/kb/articles/{article_id}")).json()
        assert (published["title"], published["status"], published["revision"]) == (
            "Принтер не печатает после замены картриджа", "published", 2)
        found = (await portal_service.http.get("/api/v1/kb/search", params={"q": "принтеры не печатают"})).json()
        assert [hit["id"] for hit in found["items"]] == [article_id], "the public finds it now"
        edited = (await portal_service.http.get(f"/api/v1/kb/articles/{article_id}",
                                                headers={"Authorization": f"Bearer {PORTAL_ADMIN}"})).json()
        assert edited["updated_by"] == "Иванова", "the agent is the revision's editor"

        # The first revision back into the form (nothing saved until the agent saves).
        await page.click('#kb-revisions li[data-revision="1"] button.kb-restore')
        await expect(page.locator("#kb-title")).to_have_value("Принтер в бухгалтерии не печатает")
        await expect(page.locator("#kb-status")).to_have_value("draft")
        assert (await portal_service.http.get(f"/api/v1/kb/articles/{article_id}")).json()["revision"] == 2
        assert page.errors == []


async def test_without_a_portal_the_editor_says_so(served: Served, browser) -> None:  # noqa: F811
    page, _ = await log_in(browser, served, "Иванова")
    await expect(page.locator("#kb-editor-link")).to_be_hidden()
    await page.goto(f"{served.url}/console/kb")
    await expect(page.locator("#kb-denied")).to_contain_text("TICKETS_PORTAL_URL")
    await expect(page.locator("#kb-view")).to_be_hidden()
