"""Visibility per group: ``clients`` articles are read by a signed-in customer whose card has a contract in force
or an SLA tier above the default, in search and on the article page; never by an anonymous visitor, nor by a
signed-in customer without either. On SQLite and PostgreSQL, through the real sign-in (code on the bus)."""

from __future__ import annotations

from datetime import date, timedelta

from priyom_contracts import ServiceContract
from priyom_portal.sign_in import in_clients_group

from .account_peers import Directory
from .conftest import write
from .test_account import Portal, portal, sign_in  # noqa: F401 - the fixture is used by name

PUBLIC_TITLE = "Принтер не печатает"
CLIENTS_TITLE = "Принтер по договору: выезд инженера"
INTERNAL_TITLE = "Принтеры: регламент для сотрудников"


def contract(valid_from: date | None = None, valid_to: date | None = None) -> ServiceContract:
    return ServiceContract(number="Д-17/2026", service="печать", valid_from=valid_from, valid_to=valid_to)


def test_a_contract_in_force_or_a_tier_above_the_default_makes_a_client() -> None:
    today = date(2026, 12, 4)
    card = Directory().card("anna@example.ru")
    assert not in_clients_group(card, today)
    assert in_clients_group(card.model_copy(update={"contracts": [contract()]}), today)
    assert in_clients_group(card.model_copy(update={"contracts": [contract(today, today)]}), today)
    assert not in_clients_group(card.model_copy(update={"contracts": [contract(valid_to=today - timedelta(days=1))]}),
                                today)
    assert not in_clients_group(card.model_copy(update={"contracts": [contract(valid_from=today + timedelta(days=1))]}),
                                today)
    assert in_clients_group(card.model_copy(update={"sla_tier": "gold"}), today)


async def seen(portal: Portal, ids: dict[str, int]) -> set[str]:  # noqa: F811 - fixture type
    """The titles the current visitor finds by search and can open, each way checked against the other."""
    page = (await portal.http.get("/kb", params={"q": "принтер"})).text
    found = {title for title in ids if title in page}
    opened = {title for title, article_id in ids.items()
              if (await portal.http.get(f"/kb/{article_id}")).status_code == 200}
    assert found == opened, (found, opened)
    return found


async def test_clients_articles_are_read_by_signed_in_clients_only(portal: Portal) -> None:  # noqa: F811
    ids = {PUBLIC_TITLE: await write(portal.http, PUBLIC_TITLE, "Проверьте бумагу в лотке."),
           CLIENTS_TITLE: await write(portal.http, CLIENTS_TITLE, "Принтер по договору: инженер приедет за день.",
                                      visibility="clients"),
           INTERNAL_TITLE: await write(portal.http, INTERNAL_TITLE, "Принтер: сбросить очередь.",
                                       visibility="internal")}
    assert await seen(portal, ids) == {PUBLIC_TITLE}, "anonymous: the public article only"

    portal.directory.card("walk-in@example.ru")
    await sign_in(portal, "walk-in@example.ru")
    assert await seen(portal, ids) == {PUBLIC_TITLE}, "signed in without a contract or tier: still public only"
    assert (await portal.http.post(f"/kb/{ids[CLIENTS_TITLE]}/feedback", data={"helped": "yes"})).status_code == 404
    await portal.http.post("/account/sign-out")

    card = portal.directory.card("client@example.ru")
    portal.directory.cards["client@example.ru"] = card.model_copy(update={"contracts": [contract()]})
    await sign_in(portal, "client@example.ru")
    assert await seen(portal, ids) == {PUBLIC_TITLE, CLIENTS_TITLE}, "a client with a contract"
    page = await portal.http.get(f"/kb/{ids[CLIENTS_TITLE]}")
    assert page.headers["cache-control"] == "private, no-store", "a client's page is never cached"
    thanked = await portal.http.post(f"/kb/{ids[CLIENTS_TITLE]}/feedback", data={"helped": "yes"})
    assert thanked.status_code == 303
    await portal.http.post("/account/sign-out")
    assert await seen(portal, ids) == {PUBLIC_TITLE}, "signed out: anonymous again"

    card = portal.directory.card("gold@example.ru", kind="org", role="consumer")
    portal.directory.cards["gold@example.ru"] = card.model_copy(update={"sla_tier": "gold"})
    await sign_in(portal, "gold@example.ru")
    assert await seen(portal, ids) == {PUBLIC_TITLE, CLIENTS_TITLE}, "a person of an organisation above the tier"

    # The JSON search API is not the pages: without a staff token it stays public. The suggestions are the
    # new-request page's (its script sends the cookie): they offer what the pages show.
    found = (await portal.http.get("/api/v1/kb/search", params={"q": "принтер"})).json()["items"]
    assert [hit["id"] for hit in found] == [ids[PUBLIC_TITLE]]
    offered = (await portal.http.get("/api/v1/kb/suggest", params={"q": "принтер"})).json()["items"]
    assert {hit["id"] for hit in offered} == {ids[PUBLIC_TITLE], ids[CLIENTS_TITLE]}
    await portal.http.post("/account/sign-out")
    offered = (await portal.http.get("/api/v1/kb/suggest", params={"q": "принтер"})).json()["items"]
    assert [hit["id"] for hit in offered] == [ids[PUBLIC_TITLE]], "signed out: the public one only"
