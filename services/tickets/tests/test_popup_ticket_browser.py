"""From a caller's pop-up, in headless Chromium: "Новое обращение" opens the call's ticket while the phone
rings, and "Открыть" on one of the caller's open tickets makes the call join it. The console asks tickets,
tickets a real intake-telephony (with the agent's own token), which follows the call on the fake AMI server.
Identity and the router are played here by the test (the whole path: tests/e2e/test_call_ticket.py).
Skipped where intake-telephony is not installed."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import SecretStr

from priyom_contracts import CallEvent, CallState, ClientMatch, MatchKind, Sender, ThreadHint
from priyom_kit import HttpClient
from priyom_kit.staff_auth import StaffVerifier
from priyom_kit.testing import bus_tap
from priyom_testing.scripted_pbx import ScriptedPbx
from priyom_tickets import tables

from .test_calls_browser import Telephony, telephony_service  # noqa: F401 - the fixture is used by name
from .test_console_browser import (  # noqa: F401 - the fixtures are used by name
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


class TestTicketFromAPopUp:
    @pytest.fixture
    def telephony_url(self, telephony_service: Telephony) -> str:  # noqa: F811 - overrides the default
        return telephony_service.url

    async def test_new_ticket_and_open_ticket_from_the_pop_up(
        self, served: Served, telephony_service: Telephony, browser, make_routed, amqp_url: str,  # noqa: F811
        cleanup_bus: str,
    ) -> None:
        staff = HttpClient(base_url=served.url)
        await staff.open()
        telephony_service.app.state.authenticator = StaffVerifier(
            admin_token=SecretStr("telephony-admin-token-for-tests"), service_tokens={}, staff=staff)
        try:
            async with served.database.sessions() as session:
                await session.execute(tables.staff.update().where(tables.staff.c.name == "Иванова")
                                      .values(extension="101"))
                await session.commit()
            page, _ = await log_in(browser, served, "Иванова")
            await expect(page.locator("#popup-status")).to_contain_text("на связи")
            pbx = ScriptedPbx()
            call_id, events = pbx.direct_call("89161234567", "101")
            rings = next(i for i, e in enumerate(events) if e.get("DialStatus") == "RINGING") + 1

            async with bus_tap(amqp_url, cleanup_bus, "contact.received.v1.*") as contacts:
                await telephony_service.ami.send(events[:rings])
                card = page.locator(f'#popups .popup[data-call="{call_id}"]')
                await card.wait_for(timeout=WAIT_MS)
                await card.get_by_role("button", name="Новое обращение").click()
                early = json.loads((await contacts.next(15)).body)
            assert early["contact"]["registered_by"] == "101"
            # Identity and the router, played here: the contact becomes a ticket the usual way.
            client_id = uuid.uuid4()
            number = await served.ticket(
                make=make_routed, channel="phone", client_id=client_id, contact_id=uuid.UUID(early["contact"]["contact_id"]),
                key=early["idempotency_key"], sender=Sender(phone="+79161234567"), team="service",
                assignee="Иванова", subject="Call from +79161234567",
                thread=ThreadHint(external_thread_id=early["contact"]["thread"]["external_thread_id"]))
            await expect(page.locator("#t-number")).to_have_text(number, timeout=WAIT_MS)
            await expect(card.locator(".call-ticket-status")).to_have_text(f" обращение {number}")

            # The same caller's next call: "Открыть" on their open ticket makes the call join it.
            second_id, second = pbx.direct_call("89161234567", "101")
            second_rings = next(i for i, e in enumerate(second) if e.get("DialStatus") == "RINGING") + 1
            await telephony_service.ami.send(second[:second_rings])
            popup = page.locator(f'#popups .popup[data-call="{second_id}"]')
            await popup.wait_for(timeout=WAIT_MS)
            # Identity, played here: the caller's card found while the phone rings lists their open ticket.
            await served.parts.bus.publish(CallEvent(
                correlation_id=uuid.uuid4(), channel="phone", idempotency_key=f"test:{second_id}:ringing:101",
                call_id=second_id, state=CallState.RINGING, caller="+79161234567", agent="101",
                client=ClientMatch(client_id=client_id, display_name="Вера Котова", first_contact=False,
                                   match=MatchKind.EXACT_PHONE)))
            await page.click("#back")
            await popup.locator(f'button.open-ticket[data-number="{number}"]').click()
            await expect(page.locator("#t-number")).to_have_text(number)
            await expect(popup.locator(".call-ticket-status")).to_have_text(f" звонок будет добавлен в {number}")
            journal = telephony_service.app.state.parts.journal
            call = journal.open_calls["ami"][second_id]
            assert call.ticket_number == number
            # The console asks for the new ticket until it is registered: those 404s are the only errors.
            assert [e for e in page.errors if "status of 404" not in e] == []
        finally:
            await staff.close()
