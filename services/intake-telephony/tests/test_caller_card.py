"""The pop-up carries the caller's card from the real identity service, over the bus: one card, two numbers.

Identity runs in this process on a migrated SQLite database and the same bus names; the card is created
through its HTTP API, as an operator would. Skipped where identity is not installed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from priyom_testing.apps import started
from priyom_testing.scripted_pbx import ScriptedPbx

from .conftest import ADMIN, ADMIN_TOKEN, FakeAmiServer, Telephony

identity_app = pytest.importorskip("priyom_identity.app", reason="the identity service is not installed")
identity_settings = pytest.importorskip("priyom_identity.settings")
identity_store = pytest.importorskip("priyom_identity.store")


@pytest.fixture
async def identity(tmp_path: Path, cleanup_bus: str, amqp_url: str) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}"
    await asyncio.to_thread(identity_store.migrate_database, url)
    settings = identity_settings.IdentitySettings(IDENTITY_DATABASE_URL=url, AMQP_URL=amqp_url,
                                                  PRIYOM_BUS_PREFIX=cleanup_bus, PRIYOM_ADMIN_TOKEN=ADMIN_TOKEN)
    from priyom_kit import build_app

    app = build_app(identity_app.build(settings))
    async with started(app), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://identity.test") as client:
        yield client


async def test_a_caller_with_two_numbers_pops_up_with_one_card(identity: httpx.AsyncClient, telephony: Telephony,
                                                               ami: FakeAmiServer) -> None:
    created = await identity.post("/api/v1/clients", headers=ADMIN, json={
        "name": "ООО «Северный ветер»", "account_manager": "Иванова", "sla_tier": "premium",
        "persons": [{"full_name": "Пётр Сидоров", "phones": ["+7 916 730-00-01", "+7 495 730-00-02"]}]})
    assert created.status_code == 201, created.text
    card = created.json()
    pbx = ScriptedPbx()
    cards = []
    for number in ("8 916 730 00 01", "84957300002"):
        await ami.send(pbx.direct_call(number, "101", caller_name="Petr")[1])
        ringing, *_ = await telephony.call_events(3)
        assert ringing["state"] == "ringing"
        cards.append(ringing["client"])
        await telephony.contact()
    for client in cards:
        assert client is not None, "identity answered within the lookup timeout"
        assert (client["client_id"], client["display_name"], client["account_manager"], client["sla_tier"]) == (
            card["id"], "ООО «Северный ветер»", "Иванова", "premium")
        assert client["first_contact"] is False


async def test_an_unknown_number_still_pops_up_as_a_new_caller(identity: httpx.AsyncClient, telephony: Telephony,
                                                               ami: FakeAmiServer) -> None:
    _, events = ScriptedPbx().queue_call("+74997300003", ["101", "102"], answered_by="101")
    await ami.send(events)
    ringing = (await telephony.call_events(4))[:2]
    assert {e["agent"] for e in ringing} == {"101", "102"}
    assert all(e["client"] is None and e["caller"] == "+74997300003" for e in ringing)
