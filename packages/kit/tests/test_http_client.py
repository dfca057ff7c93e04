"""The one HTTP client a service holds: opened at start, closed at stop, base URL and bearer token set once."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from priyom_kit import HttpClient


async def test_requests_go_under_the_base_url_with_the_token_and_only_while_open() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    identity = HttpClient(base_url="http://identity.test/", token=SecretStr("t0k"),
                          transport=httpx.MockTransport(answer))
    with pytest.raises(RuntimeError, match="not open"):
        await identity.get("/api/v1/clients/1")
    await identity.open()
    try:
        assert (await identity.get("/api/v1/clients/1")).json() == {"ok": True}
        await identity.post("http://elsewhere.test/token", headers={"Authorization": "Bearer caller"})
    finally:
        await identity.close()
    assert [str(r.url) for r in seen] == ["http://identity.test/api/v1/clients/1", "http://elsewhere.test/token"]
    assert [r.headers["Authorization"] for r in seen] == ["Bearer t0k", "Bearer caller"]
    with pytest.raises(RuntimeError, match="not open"):
        await identity.get("/api/v1/clients/1")


async def test_redirects_are_followed_only_when_asked() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(308, headers={"Location": "/new"})
        return httpx.Response(200, text=request.url.path)

    for follow, expected in ((False, 308), (True, 200)):
        client = HttpClient(base_url="http://identity.test", follow_redirects=follow,
                            transport=httpx.MockTransport(answer))
        await client.open()
        try:
            assert (await client.get("/old")).status_code == expected
        finally:
            await client.close()
