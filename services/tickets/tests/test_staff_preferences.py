"""An agent's console language and time zone: kept on their own account, set only by themselves, validated.

Through the service's own API on SQLite and PostgreSQL (the ``client`` fixture of test_staff_tokens.py).
"""

from __future__ import annotations

import httpx
import pytest

from .test_staff_tokens import ADMIN, account, bearer, client  # noqa: F401 - the fixture is used by name


async def me(http: httpx.AsyncClient, token: str) -> dict:
    answer = await http.get("/api/v1/me", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_an_agent_chooses_language_and_zone_and_another_agents_stay_as_they_were(
    client: httpx.AsyncClient,  # noqa: F811 - fixture
) -> None:
    anna, oleg = await account(client, "Анна"), await account(client, "Олег")
    fresh = await me(client, anna)
    assert (fresh["locale"], fresh["time_zone"]) == (None, None)  # never chosen: the console follows the browser

    oleg_choice = {"locale": "ru", "time_zone": "Europe/Moscow"}
    assert (await client.put("/api/v1/me/preferences", json=oleg_choice, headers=bearer(oleg))).status_code == 200
    saved = await client.put("/api/v1/me/preferences", json={"locale": "en", "time_zone": "America/New_York"},
                             headers=bearer(anna))
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"locale": "en", "time_zone": "America/New_York"}
    assert {k: (await me(client, anna))[k] for k in ("name", "locale", "time_zone")} == {
        "name": "Анна", "locale": "en", "time_zone": "America/New_York"}
    oleg_now = await me(client, oleg)
    assert (oleg_now["locale"], oleg_now["time_zone"]) == ("ru", "Europe/Moscow")

    # Back to the browser's: null for either.
    cleared = await client.put("/api/v1/me/preferences", json={"locale": None, "time_zone": None},
                               headers=bearer(anna))
    assert cleared.status_code == 200, cleared.text
    assert ((await me(client, anna))["locale"], (await me(client, anna))["time_zone"]) == (None, None)
    assert (await me(client, oleg))["time_zone"] == "Europe/Moscow"
    listed = {s["name"] for s in (await client.get("/api/v1/staff", headers=bearer(ADMIN))).json()}
    assert listed == {"Анна", "Олег"}


@pytest.mark.parametrize("body", [
    {"locale": "en", "time_zone": "Mars/Olympus_Mons"},
    {"locale": "en", "time_zone": "../../../etc/passwd"},
    {"locale": "en", "time_zone": "europe/moscow"},  # the database's spelling only
    {"locale": "en", "time_zone": "Europe/" + "X" * 100},
    {"locale": "de", "time_zone": "Europe/Berlin"},
    {"locale": "", "time_zone": "Europe/Berlin"},
], ids=["unknown zone", "a path", "wrong case", "too long", "a language the console lacks", "empty language"])
async def test_a_bad_zone_or_language_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, body: dict,  # noqa: F811 - fixture
) -> None:
    anna = await account(client, "Анна")
    before = {"locale": "ru", "time_zone": "Asia/Yekaterinburg"}
    assert (await client.put("/api/v1/me/preferences", json=before, headers=bearer(anna))).status_code == 200
    refused = await client.put("/api/v1/me/preferences", json=body, headers=bearer(anna))
    assert refused.status_code == 422, refused.text
    now = await me(client, anna)
    assert {"locale": now["locale"], "time_zone": now["time_zone"]} == before


async def test_preferences_need_a_staff_account_of_ones_own(client: httpx.AsyncClient) -> None:  # noqa: F811
    # The environment's admin token has no account to keep them on; nobody sets another's (no name in the path).
    refused = await client.put("/api/v1/me/preferences", json={"locale": "en", "time_zone": "UTC"},
                               headers=bearer(ADMIN))
    assert refused.status_code == 403, refused.text
    assert (await client.put("/api/v1/me/preferences", json={"locale": "en"})).status_code == 401
    assert (await me(client, ADMIN))["locale"] is None
