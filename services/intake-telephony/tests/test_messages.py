"""What a call becomes on the bus (pure): numbers, keys, the call event, the contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from priyom_contracts import CallState
from priyom_intake_telephony.channels import Extensions
from priyom_intake_telephony.messages import CallMessages, caller_number, contact_id
from priyom_intake_telephony.tracker.call import Call

T0 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
MESSAGES = CallMessages("pbx1", "RU", Extensions())


@pytest.mark.parametrize(("raw", "expected"), [
    ("8 (916) 123-45-67", "+79161234567"), ("89161234567", "+79161234567"), ("+7 916 123 45 67", "+79161234567"),
    ("8-800-555-35-35", "+78005553535"), ("+31150010001", "+31150010001"), ("101", "101"), ("", ""),
    ("anonymous", "anonymous"),
])
def test_caller_numbers(raw: str, expected: str) -> None:
    assert caller_number(raw, "RU") == expected


def answered_call() -> Call:
    call = Call(call_id="1764072000.17", started_at=T0, caller="89161234567", caller_name="Иван",
                called="74950000000", queue="support", agents=["101", "102"], answered_at=T0 + timedelta(seconds=5),
                ended_at=T0 + timedelta(seconds=65), recording="/var/spool/asterisk/monitor/a.wav")
    return call


def test_ringing_keys_name_the_agent_and_the_attempt() -> None:
    call = answered_call()
    first = MESSAGES.call_event(call, CallState.RINGING, agent="101")
    again = MESSAGES.call_event(call, CallState.RINGING, agent="101", attempt=2)
    assert (first.idempotency_key, again.idempotency_key) == ("pbx1:1764072000.17:ringing:101:1",
                                                              "pbx1:1764072000.17:ringing:101:2")
    assert first.correlation_id == contact_id("pbx1", call) and first.caller == "+79161234567"
    assert first.routing_key == "call.event.v1.phone"


def test_an_answered_call_is_a_contact_with_its_details() -> None:
    event = MESSAGES.contact(answered_call(), T0)
    contact = event.contact
    assert event.idempotency_key == "pbx1:1764072000.17" and event.correlation_id == contact.contact_id
    assert contact.subject == "Call from +79161234567" and contact.registered_by == "102"
    details = contact.call
    assert details is not None
    assert (details.outcome.value, details.agent, details.agents, details.duration_s, details.call_back) == (
        "answered", "102", ["101", "102"], 60, False)
    assert "Talk time: 60 s." in contact.body and "Recording: /var/spool/asterisk/monitor/a.wav" in contact.body


def test_a_missed_call_asks_for_a_call_back_and_an_outbound_one_does_not() -> None:
    missed = Call(call_id="x.1", started_at=T0, caller="+74957654321", ended_at=T0 + timedelta(seconds=20))
    contact = MESSAGES.contact(missed, T0).contact
    assert contact.call is not None and contact.call.call_back and contact.call.duration_s == 0
    assert contact.subject == "Missed call from +74957654321"
    outbound = Call(call_id="x.2", started_at=T0, caller="101", called="+74957654321", outbound=True,
                    originator="101", ended_at=T0 + timedelta(seconds=20))
    out = MESSAGES.contact(outbound, T0).contact
    assert out.call is not None and not out.call.call_back and out.sender.phone == "+74957654321"
    assert out.subject == "Outbound call to +74957654321"
