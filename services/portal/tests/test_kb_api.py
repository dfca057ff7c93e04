"""The knowledge base's API on the started service, on SQLite and PostgreSQL: the pinned write and search,
Russian and English morphology, who sees what, revisions, drafts, Markdown and feedback."""

from __future__ import annotations

import httpx

from .conftest import ADMIN, AGENT, SERVICE, write

PRINTER_BODY = (
    "Если **принтер** не печатает, проверьте, что он включён и в лотке есть бумага.\n\n"
    "1. Откройте очередь печати.\n2. Удалите зависшие задания.\n"
)


async def search(http: httpx.AsyncClient, q: str, headers: dict[str, str] | None = None) -> list[dict]:
    response = await http.get("/api/v1/kb/search", params={"q": q}, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_an_inflected_russian_query_finds_the_article_and_internal_ones_need_staff(
    http: httpx.AsyncClient,
) -> None:
    printer = await write(http, "Принтер не печатает", PRINTER_BODY)
    internal = await write(
        http,
        "Принтеры: сброс спулера на сервере печати",
        "Перезапустите службу печати; клиентам не печатают этот порядок.",
        visibility="internal",
    )
    clients = await write(
        http,
        "Печатает ли принтер по договору обслуживания",
        "Принтеры не печатают? Звоните.",
        visibility="clients",
    )
    draft = await write(http, "Принтер не печатает (черновик)", "Принтеры не печатают.", status="draft")
    await write(http, "Сканер не сканирует", "Проверьте кабель сканера.")

    items = await search(http, "принтеры не печатают")
    assert [item["id"] for item in items] == [printer]
    assert items[0] == {
        "id": printer,
        "title": "Принтер не печатает",
        "url": f"https://help.example/kb/{printer}",
        "snippet": items[0]["snippet"],
    }
    assert "принтер" in items[0]["snippet"].lower() and "**" not in items[0]["snippet"]

    staff = {item["id"] for item in await search(http, "принтеры не печатают", AGENT)}
    assert staff == {printer, internal, clients}  # every visibility; drafts are not searched
    assert draft not in staff
    # A token that is not valid is refused, not read as anonymous.
    assert (
        await http.get(
            "/api/v1/kb/search",
            params={"q": "принтер"},
            headers={"Authorization": "Bearer not-a-valid-token-at-all"},
        )
    ).status_code == 401
    # Only stopwords: nothing, on either database.
    assert await search(http, "не как и") == []


async def test_english_morphology(http: httpx.AsyncClient) -> None:
    vpn = await write(
        http,
        "The VPN client keeps disconnecting",
        "Reinstall the client and update its certificates.",
        language="en",
    )
    await write(http, "Принтер не печатает", PRINTER_BODY)
    assert [item["id"] for item in await search(http, "vpn disconnects")] == [vpn]
    assert [item["id"] for item in await search(http, "updating certificate")] == [vpn]
    assert await search(http, "vpn printer") == []  # every word must be found


async def test_writing_takes_a_staff_token(http: httpx.AsyncClient) -> None:
    article = {"title": "Т", "body": "текст", "visibility": "public", "status": "published"}
    assert (await http.post("/api/v1/kb/articles", json=article)).status_code == 401
    assert (await http.post("/api/v1/kb/articles", json=article, headers=SERVICE)).status_code == 403
    response = await http.post("/api/v1/kb/articles", json=article, headers=AGENT)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["created_by"], created["revision"], created["language"]) == ("Анна", 1, "ru")
    # Without visibility and status an article is an internal draft.
    quiet = await http.post("/api/v1/kb/articles", json={"title": "Т2", "body": "x"}, headers=AGENT)
    assert (quiet.json()["visibility"], quiet.json()["status"]) == ("internal", "draft")
    assert (await http.get("/api/v1/kb/articles", headers={})).status_code == 401


async def test_bad_articles_and_queries_are_refused_with_the_reason(http: httpx.AsyncClient) -> None:
    for wrong, field in (
        ({"visibility": "everyone"}, "visibility"),
        ({"status": "live"}, "status"),
        ({"title": "x" * 201}, "title"),
        ({"language": "de"}, "language"),
        ({"title": "   "}, "title"),
        ({"extra": 1}, "extra"),
    ):
        response = await http.post(
            "/api/v1/kb/articles", headers=ADMIN, json={"title": "Т", "body": "текст", **wrong}
        )
        assert response.status_code == 422, wrong
        assert response.json()["detail"][0]["loc"][-1] == field
    assert (await http.get("/api/v1/kb/search", params={"q": "x" * 201})).status_code == 422
    assert (await http.get("/api/v1/kb/search", params={"q": ""})).status_code == 422


async def test_each_save_is_a_revision_and_a_draft_stays_hidden(http: httpx.AsyncClient) -> None:
    article = await write(http, "Как сменить пароль", "Черновик.", status="draft")
    assert (await http.get(f"/api/v1/kb/articles/{article}")).status_code == 404
    assert await search(http, "сменить пароль") == []
    published = {
        "title": "Как сменить пароль",
        "body": "Откройте профиль и нажмите «Сменить пароль».",
        "visibility": "public",
        "status": "published",
    }
    response = await http.put(f"/api/v1/kb/articles/{article}", json=published, headers=AGENT)
    assert response.status_code == 200, response.text
    assert (response.json()["revision"], response.json()["updated_by"]) == (2, "Анна")
    assert response.json()["published_at"] is not None
    public = (await http.get(f"/api/v1/kb/articles/{article}")).json()
    assert "body" not in public and "created_by" not in public  # readers get the page, not the editors' view
    assert [item["id"] for item in await search(http, "смена паролей")] == [article]

    history = (await http.get(f"/api/v1/kb/articles/{article}/revisions", headers=ADMIN)).json()
    assert [(r["revision"], r["status"], r["body"], r["edited_by"]) for r in history] == [
        (2, "published", published["body"], "Анна"),
        (1, "draft", "Черновик.", "admin"),
    ]
    assert (await http.get(f"/api/v1/kb/articles/{article}/revisions")).status_code == 401
    assert (await http.put("/api/v1/kb/articles/999999", json=published, headers=ADMIN)).status_code == 404

    # Back to a draft: gone from the public search at once, still in the staff's list.
    await http.put(f"/api/v1/kb/articles/{article}", json={**published, "status": "draft"}, headers=ADMIN)
    assert await search(http, "сменить пароль") == []
    drafts = (await http.get("/api/v1/kb/articles", params={"status": "draft"}, headers=AGENT)).json()
    assert [(a["id"], a["revision"]) for a in drafts] == [(article, 3)]


async def test_markdown_is_rendered_sanitised_and_served_as_a_page(http: httpx.AsyncClient) -> None:
    body = (
        "## Шаги\n\n**Важно**: <script>alert(1)</script> [ссылка](javascript:alert(2)) "
        "[сайт](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    article = await write(http, "Шаги <настройки>", body)
    html = (await http.get(f"/api/v1/kb/articles/{article}")).json()["html"]
    assert "<h2>Шаги</h2>" in html and "<strong>Важно</strong>" in html and "<table>" in html
    assert "<script" not in html and 'href="javascript' not in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">сайт</a>' in html

    page = await http.get(f"/kb/{article}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<h1>Шаги &lt;настройки&gt;</h1>" in page.text and "<strong>Важно</strong>" in page.text
    internal = await write(http, "Внутреннее", "Только для сотрудников.", visibility="internal")
    assert (await http.get(f"/kb/{internal}")).status_code == 404

    results = await http.get("/kb", params={"q": "шаг настройка"})
    assert f'href="https://help.example/kb/{article}"' in results.text


async def test_feedback_is_counted(http: httpx.AsyncClient) -> None:
    article = await write(http, "Принтер не печатает", PRINTER_BODY)
    for helped in (True, True, False):
        response = await http.post(f"/api/v1/kb/articles/{article}/feedback", json={"helped": helped})
        assert response.status_code == 200, response.text
    assert response.json() == {"helped": 2, "not_helped": 1}
    form = await http.post(
        f"/kb/{article}/feedback",
        content="helped=no",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (form.status_code, form.headers["location"]) == (303, f"/kb/{article}?thanks=1")
    assert (await http.post(f"/kb/{article}/feedback", content="helped=maybe")).status_code == 400
    staff_view = (await http.get(f"/api/v1/kb/articles/{article}", headers=ADMIN)).json()
    assert (staff_view["helped"], staff_view["not_helped"]) == (2, 2)

    internal = await write(http, "Внутреннее", "Только для сотрудников.", visibility="internal")
    assert (
        await http.post(f"/api/v1/kb/articles/{internal}/feedback", json={"helped": True})
    ).status_code == 404


async def test_a_body_over_the_cap_is_refused_before_it_is_read(http: httpx.AsyncClient) -> None:
    huge = {"title": "Т", "body": "ж" * 600_000, "visibility": "public", "status": "published"}
    declared = await http.post("/api/v1/kb/articles", json=huge, headers=ADMIN)
    assert (declared.status_code, declared.json()["detail"]) == (413, "request body too large")

    async def streamed():  # no Content-Length: counted as it arrives
        for _ in range(120):
            yield b"x" * 10_000

    chunked = await http.post(
        "/api/v1/kb/articles", content=streamed(), headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert chunked.status_code == 413
    # The longest article that is allowed still is.
    assert (
        await http.post("/api/v1/kb/articles", headers=ADMIN, json={**huge, "body": "ж" * 100_000})
    ).status_code == 201
