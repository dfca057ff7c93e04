"""Deflection on the started service: suggestions while the customer types, from the web form's origin only,
"this helped" counted, and the rate on /metrics (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from .conftest import ADMIN, FORM_ORIGIN, write


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    assert found, f"{name} not on /metrics"
    return float(found.group(1))


async def suggest(http: httpx.AsyncClient, q: str, session: str | None = None) -> list[int]:
    params = {"q": q, **({"session": session} if session else {})}
    response = await http.get("/api/v1/kb/suggest", params=params, headers={"Origin": FORM_ORIGIN})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == FORM_ORIGIN
    return [item["id"] for item in response.json()["items"]]


async def test_suggestions_follow_the_typing_and_count_towards_the_deflection_rate(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    printer = await write(http, "Принтер не печатает", "Проверьте бумагу и очередь печати.")
    vpn = await write(http, "VPN не подключается", "Переустановите клиент VPN.")
    await write(http, "Принтер: внутренняя инструкция", "Сброс спулера.", visibility="internal")

    assert await suggest(http, "принт") == [printer]  # an unfinished word is a prefix
    assert await suggest(http, "у нас принтеры не печатают", "page-one-0001") == [printer]
    assert set(await suggest(http, "принтер и vpn", "page-two-0002")) == {printer, vpn}  # any word will do
    assert await suggest(http, "погода на завтра ", "page-three-03") == []  # offered nothing: not a session

    # Page one: the printer article helped; page two: the customer went on to send the form.
    helped = await http.post(
        f"/api/v1/kb/articles/{printer}/feedback",
        json={"helped": True, "session": "page-one-0001"},
        headers={"Origin": FORM_ORIGIN},
    )
    assert helped.status_code == 200 and helped.headers["access-control-allow-origin"] == FORM_ORIGIN
    # Said twice, or about an article never offered in a session: one deflection per session.
    await http.post(
        f"/api/v1/kb/articles/{printer}/feedback", json={"helped": True, "session": "page-one-0001"}
    )
    await http.post(f"/api/v1/kb/articles/{vpn}/feedback", json={"helped": True, "session": "never-shown-01"})

    await app.state.portal.metrics.refresh()
    text = (await http.get("/metrics")).text
    assert metric(text, "priyom_kb_suggestion_sessions") == 2
    assert metric(text, "priyom_kb_deflected_sessions") == 1
    assert metric(text, "priyom_kb_deflection_rate") == 0.5
    assert metric(text, "priyom_kb_deflections_total") == 1
    assert metric(text, 'priyom_kb_suggestions_total{offered="no"}') == 1
    assert metric(text, 'priyom_kb_feedback_total{helped="yes"}') == 3


async def test_only_the_configured_origins_may_call_from_a_browser(http: httpx.AsyncClient) -> None:
    allowed = await http.options(
        "/api/v1/kb/suggest", headers={"Origin": FORM_ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == FORM_ORIGIN
    refused = await http.options(
        "/api/v1/kb/suggest",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    answer = await http.get(
        "/api/v1/kb/suggest", params={"q": "принтер"}, headers={"Origin": "https://elsewhere.example"}
    )
    assert "access-control-allow-origin" not in answer.headers
    # A staff token cannot be sent from another origin: the preflight does not allow the header.
    with_token = await http.options(
        "/api/v1/kb/articles",
        headers={
            "Origin": FORM_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert with_token.status_code == 400
    # And a session id is one the form made up, nothing else.
    bad = await http.get("/api/v1/kb/suggest", params={"q": "принтер", "session": "<script>"}, headers=ADMIN)
    assert bad.status_code == 422
