"""From a pop-up, during the call: the ticket the call is about, or its ticket opened at once; the contact at
hangup then names that ticket, or continues the one opened (call_ticket.py). Calls come by the CTI webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from priyom_contracts import contact_id_for

from .conftest import ADMIN, CTI_SECRET, Telephony, migrated_sqlite, started, telephony_settings

HEADERS = {"X-CTI-Secret": CTI_SECRET}


@pytest.fixture
async def webhook_only(cleanup_bus: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[Telephony]:
    database_url = await asyncio.to_thread(migrated_sqlite, tmp_path)
    async for service in started(telephony_settings(amqp_url, cleanup_bus, None, database_url), amqp_url,
                                 cleanup_bus):
        yield service


async def ring(service: Telephony, call_id: str, *extensions: str) -> dict:
    base = {"callId": call_id, "from": "89161234567", "to": "74950000000", "direction": "in"}
    answer = await service.client.post("/api/v1/cti", headers=HEADERS,
                                       json={**base, "event": "newCall", "user": list(extensions)})
    assert answer.status_code == 200, answer.text
    await service.call_events(len(extensions))
    return base


async def hang_up(service: Telephony, base: dict, extension: str) -> dict:
    for event in ({"event": "answer", "answeringNumber": extension}, {"event": "hangup", "cause": "normalClearing"}):
        assert (await service.client.post("/api/v1/cti", headers=HEADERS, json={**base, **event})).status_code == 200
    await service.call_events(2)
    return (await service.contact())["contact"]


async def test_a_ticket_opened_during_the_call_is_continued_by_the_call_s_contact(webhook_only: Telephony) -> None:
    base = await ring(webhook_only, "zx-31", "101", "102")
    path = "/api/v1/calls/zx-31/ticket"
    opened = await webhook_only.client.post(path, headers=ADMIN, json={"extension": "101", "new": True})
    assert opened.status_code == 200, opened.text
    assert opened.json()["contact_id"] == str(contact_id_for("pbx:zx-31:opened"))
    early = await webhook_only.contact()
    assert early["idempotency_key"] == "pbx:zx-31:opened"
    assert early["contact"]["thread"]["external_thread_id"] == "call:pbx:zx-31"
    assert (early["contact"]["registered_by"], early["contact"]["call"]) == ("101", None)
    assert early["contact"]["sender"]["phone"] == "+79161234567"

    again = await webhook_only.client.post(path, headers=ADMIN, json={"extension": "102", "new": True})
    assert again.json()["contact_id"] == opened.json()["contact_id"], "asked twice: the same contact"
    await webhook_only.contacts.assert_empty()

    final = await hang_up(webhook_only, base, "101")
    assert final["contact_id"] == str(contact_id_for("pbx:zx-31")), "the call keeps its own contact"
    assert final["thread"]["external_thread_id"] == "call:pbx:zx-31"
    assert final["call"]["outcome"] == "answered"
    over = await webhook_only.client.post(path, headers=ADMIN, json={"extension": "101", "new": True})
    assert over.status_code == 404, "the call is no longer in progress"


async def test_the_ticket_a_call_is_about_is_named_by_its_contact(webhook_only: Telephony) -> None:
    base = await ring(webhook_only, "zx-32", "103")
    path = "/api/v1/calls/zx-32/ticket"
    for body, code in (({"extension": "104", "number": "2026-000123"}, 403),  # the call never reached 104
                       ({"extension": "103"}, 422), ({"extension": "103", "number": "2026-000123", "new": True}, 422),
                       ({"extension": "103", "number": "123"}, 422)):
        assert (await webhook_only.client.post(path, headers=ADMIN, json=body)).status_code == code, body
    assert (await webhook_only.client.post("/api/v1/calls/nope/ticket", headers=ADMIN,
                                           json={"extension": "103", "number": "2026-000123"})).status_code == 404
    assert (await webhook_only.client.post(path, json={"extension": "103", "number": "2026-000123"})
            ).status_code == 401
    linked = await webhook_only.client.post(path, headers=ADMIN, json={"extension": "103", "number": "2026-000123"})
    assert linked.json() == {"call_id": "zx-32", "ticket_number": "2026-000123", "contact_id": None}
    final = await hang_up(webhook_only, base, "103")
    assert final["thread"]["ticket_number"] == "2026-000123"
    assert final["thread"]["external_thread_id"] is None


def test_what_the_agent_said_of_a_call_is_kept_with_its_saved_state() -> None:
    """A restart resumes a call from its saved JSON: the ticket it is about and its early contact come back."""
    from datetime import UTC, datetime

    from priyom_intake_telephony.tracker.call import Call
    from priyom_intake_telephony.tracker.call_state import call_from_json, call_to_json

    call = Call(call_id="1764072000.17", started_at=datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
                ticket_number="2026-000123", opened_early=True)
    back = call_from_json(call_to_json(call))
    assert (back.ticket_number, back.opened_early) == ("2026-000123", True)
