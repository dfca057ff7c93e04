"""Click-to-call from the agent console, in headless Chromium: the button by a caller's number asks tickets,
tickets passes the call to a real intake-telephony with the agent's own token, and the PBX (the fake AMI server
of ``priyom_testing``, speaking the Manager protocol) gets an Originate ringing the agent's extension first.
Skipped where intake-telephony is not installed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from priyom_contracts import CallEvent, CallState, ClientMatch, MatchKind
from priyom_kit import HttpClient, build_app
from priyom_kit.staff_auth import StaffVerifier
from priyom_testing.ami_server import FakeAmiServer
from priyom_tickets import tables

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
    served,
    telephony_url,
)

telephony_app = pytest.importorskip("priyom_intake_telephony.app", reason="intake-telephony is not installed")
telephony_settings = pytest.importorskip("priyom_intake_telephony.settings")
telephony_store = pytest.importorskip("priyom_intake_telephony.store")


@dataclass
class Telephony:
    app: FastAPI
    url: str
    ami: FakeAmiServer


@pytest.fixture
async def telephony_service(tmp_path: Path, cleanup_bus: str, amqp_url: str) -> AsyncIterator[Telephony]:
    """intake-telephony on a real port, logged in to the fake AMI server."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'intake-telephony.db'}"
    await asyncio.to_thread(telephony_store.migrate_database, database_url)
    async with FakeAmiServer(username="priyom", secret="s3cret") as ami:
        settings = telephony_settings.IntakeTelephonySettings(
            AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus, PRIYOM_ADMIN_TOKEN="telephony-admin-token-for-tests",
            database_url=database_url, AMI_HOST="127.0.0.1", AMI_PORT=ami.port, AMI_USERNAME=ami.username,
            AMI_SECRET=ami.secret)
        app = build_app(telephony_app.build(settings))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_config=None,
                                               access_log=False))
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        try:
            await ami.wait_for_login()
            yield Telephony(app, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", ami)
        finally:
            server.should_exit = True
            await task


async def test_without_telephony_the_call_button_says_why(served: Served) -> None:  # noqa: F811 - fixture
    answer = await served.http.post("/api/v1/calls", json={"number": "+79160000000"},
                                    headers={"Authorization": f"Bearer {served.tokens['Иванова']}"})
    assert answer.status_code == 503 and "TICKETS_TELEPHONY_URL" in answer.json()["detail"]
    assert (await served.http.post("/api/v1/calls", json={"number": "+79160000000"})).status_code == 401


class TestClickToCall:
    @pytest.fixture
    def telephony_url(self, telephony_service: Telephony) -> str:
        return telephony_service.url

    async def test_the_pop_up_s_call_button_rings_the_agent_s_extension_then_dials_the_caller(
        self, served: Served, telephony_service: Telephony, browser  # noqa: F811 - fixtures
    ) -> None:
        # Telephony checks staff tokens with this tickets (its /api/v1/me), as PRIYOM_STAFF_URL makes it do.
        staff = HttpClient(base_url=served.url)
        await staff.open()
        telephony_service.app.state.authenticator = StaffVerifier(admin_token=SecretStr("telephony-admin-token-for-tests"),
                                                                  service_tokens={}, staff=staff)
        try:
            async with served.database.sessions() as session:
                await session.execute(tables.staff.update().where(tables.staff.c.name == "Иванова")
                                      .values(extension="101"))
                await session.commit()
            page, _ = await log_in(browser, served, "Иванова")
            await expect(page.locator("#popup-status")).to_contain_text("на связи")
            await served.parts.bus.publish(CallEvent(
                correlation_id=uuid.uuid4(), channel="phone", idempotency_key="pbx-1:c7:ringing:101", call_id="c7",
                state=CallState.RINGING, caller="+79160000000", agent="101",
                client=ClientMatch(client_id=uuid.uuid4(), display_name="ООО Ромашка", first_contact=False,
                                   match=MatchKind.EXACT_PHONE)))
            card = page.locator('#popups .popup[data-call="c7"]')
            await card.wait_for(timeout=WAIT_MS)
            await card.locator('button.call-out[data-number="+79160000000"]').click()
            await expect(page.locator("#call-status")).to_have_text(
                "Звонок на +79160000000 начат: звонит ваш телефон (доб. 101)")
            originates = [a for a in telephony_service.ami.actions if a.get("Action") == "Originate"]
            assert [(a["Channel"], a["Exten"]) for a in originates] == [("PJSIP/101", "+79160000000")]

            # A colleague without an extension is told so; nothing reaches the PBX.
            other = await served.http.post("/api/v1/calls", json={"number": "+79160000000"},
                                           headers={"Authorization": f"Bearer {served.tokens['Петров']}"})
            assert other.status_code == 409 and "extension" in other.json()["detail"]
            bad = await served.http.post("/api/v1/calls", json={"number": "abc"},
                                         headers={"Authorization": f"Bearer {served.tokens['Иванова']}"})
            assert bad.status_code == 422, "telephony's refusal of a non-number is passed on"
            assert len([a for a in telephony_service.ami.actions if a.get("Action") == "Originate"]) == 1
            assert page.errors == []
        finally:
            await staff.close()
