"""The one token verifier every service uses: admin, the services' own credentials, staff checked at tickets.

"Tickets" here is a FastAPI app answering ``GET /api/v1/me`` exactly as tickets does (a ``priyom_contracts.Me``
or 401), reached over ASGI: the verifier's wire is the same HTTP request; the real tickets behind it is tested
in services/intake-telephony/tests/test_staff_click_to_call.py and the e2e role matrix.
"""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI, Header, HTTPException
from pydantic import SecretStr, ValidationError

from priyom_contracts import Me, StaffRole
from priyom_kit import HttpClient, Role
from priyom_kit.settings import ServiceSettings
from priyom_kit.staff_auth import StaffPrincipal, StaffVerifier, verifier_for

ADMIN = "admin-token-of-sixteen+"
ROUTER = "router-service-credential"


class Directory:
    """Tickets' accounts as ``/api/v1/me`` sees them; counts the questions asked."""

    def __init__(self) -> None:
        self.accounts = {"anna-token-0123456789": Me(name="Анна", role=StaffRole.AGENT, teams=["service"],
                                                      sees_all=False, extension="201"),
                         "boss-token-0123456789": Me(name="Олег", role=StaffRole.SUPERVISOR, teams=[],
                                                      sees_all=True)}
        self.asked = 0
        self.app = FastAPI()

        @self.app.get("/api/v1/me")
        async def me(authorization: str = Header("")) -> Me:
            self.asked += 1
            found = self.accounts.get(authorization.removeprefix("Bearer "))
            if found is None:
                raise HTTPException(401, "invalid token")
            return found


def verifier(directory: Directory, cache_s: float = 30.0) -> StaffVerifier:
    staff = HttpClient(base_url="http://tickets.test", transport=httpx.ASGITransport(app=directory.app))
    return StaffVerifier(admin_token=SecretStr(ADMIN), service_tokens={"router": SecretStr(ROUTER)}, staff=staff,
                         cache_s=cache_s)


async def test_admin_service_and_staff_tokens_get_their_own_roles() -> None:
    directory = Directory()
    check = verifier(directory)
    try:
        assert (await check(ADMIN)).roles == {Role.ADMIN}
        service = await check(ROUTER)
        assert (service.name, service.roles) == ("service:router", {Role.SERVICE})  # never admin
        anna = await check("anna-token-0123456789")
        assert isinstance(anna, StaffPrincipal)
        assert (anna.roles, anna.staff_role, anna.teams, anna.extension) == (
            {Role.AGENT}, StaffRole.AGENT, {"service"}, "201")
        assert (await check("boss-token-0123456789")).roles == {Role.SUPERVISOR}
        assert await check("guessed-token-000000") is None
        assert await check("x" * 10_000) is None  # never sent on
        assert directory.asked == 3  # admin and service tokens are checked here, without tickets
    finally:
        await check.close()


async def test_a_revoked_token_works_until_the_cache_forgets_it() -> None:
    directory = Directory()
    cached, uncached = verifier(directory, cache_s=30), verifier(directory, cache_s=0)
    try:
        assert await cached("anna-token-0123456789") is not None
        assert await uncached("anna-token-0123456789") is not None
        del directory.accounts["anna-token-0123456789"]  # revoked in tickets
        assert await uncached("anna-token-0123456789") is None
        assert await cached("anna-token-0123456789") is not None  # for up to PRIYOM_STAFF_CACHE_S
        directory.accounts["new-token-0123456789"] = directory.accounts["boss-token-0123456789"]
        assert await cached("new-token-0123456789") is not None  # a refusal is never cached
    finally:
        await cached.close()
        await uncached.close()


async def test_tickets_unreachable_means_no_staff_but_admin_still_works() -> None:
    staff = HttpClient(base_url="http://127.0.0.1:9", timeout_s=1.0)  # nothing listens on the discard port
    check = StaffVerifier(admin_token=SecretStr(ADMIN), service_tokens={}, staff=staff)
    try:
        assert await check("anna-token-0123456789") is None
        assert (await check(ADMIN)).roles == {Role.ADMIN}
    finally:
        await check.close()


def test_service_tokens_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIYOM_SERVICE_TOKENS", "")
    assert ServiceSettings().service_tokens == {}
    monkeypatch.setenv("PRIYOM_SERVICE_TOKENS", json.dumps({"router": "short"}))
    with pytest.raises(ValidationError, match="at least 16"):
        ServiceSettings()
    monkeypatch.setenv("PRIYOM_SERVICE_TOKENS", json.dumps({"router": ROUTER}))
    monkeypatch.setenv("PRIYOM_STAFF_URL", "http://tickets.test")
    settings = ServiceSettings()
    assert settings.service_tokens["router"].get_secret_value() == ROUTER
    built = verifier_for(settings)
    assert built.staff is not None and built.local(ROUTER) is not None
