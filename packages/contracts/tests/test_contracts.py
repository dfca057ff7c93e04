"""The envelope rules every consumer relies on."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from pydantic import ValidationError

from priyom_contracts import (
    EVENT_TYPES,
    Contact,
    ContactReceived,
    Sender,
    Topology,
    binding,
    utcnow,
)


def received(**overrides: object) -> dict:
    contact_id = uuid.uuid4()
    data = {
        "correlation_id": str(contact_id),
        "channel": "telegram",
        "idempotency_key": "tg:42:1001",
        "contact": {"contact_id": str(contact_id), "received_at": utcnow().isoformat(),
                    "sender": {"messenger": {"channel": "telegram", "user_id": "42"}}},
    }
    data.update(overrides)
    return data


def test_routing_key_carries_type_version_and_channel() -> None:
    event = ContactReceived.model_validate(received())
    assert event.routing_key == "contact.received.v1.telegram"
    assert ContactReceived.type_name() == "contact.received.v1"
    assert binding(ContactReceived) == "contact.received.v1.*"


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    event = ContactReceived.model_validate(received(added_in_v1_5="x"))
    assert not hasattr(event, "added_in_v1_5")


def test_another_major_version_is_refused() -> None:
    with pytest.raises(ValidationError, match="schema_version 2"):
        ContactReceived.model_validate(received(schema_version=2))


def test_timestamps_must_be_aware_and_are_kept_in_utc() -> None:
    with pytest.raises(ValidationError):
        Contact(contact_id=uuid.uuid4(), received_at=datetime(2026, 1, 1, 12, 0), sender=Sender())
    contact = Contact(contact_id=uuid.uuid4(), received_at=datetime.fromisoformat("2026-01-01T15:00:00+03:00"),
                      sender=Sender())
    assert contact.received_at.isoformat() == "2026-01-01T12:00:00+00:00"


@pytest.mark.parametrize("channel", ["", "Web", "web form", "x" * 40, "1tg"])
def test_channel_names_are_short_lower_case_words(channel: str) -> None:
    with pytest.raises(ValidationError):
        ContactReceived.model_validate(received(channel=channel))


def test_messages_are_immutable_and_round_trip_through_json() -> None:
    event = ContactReceived.model_validate(received())
    with pytest.raises(ValidationError):
        event.channel = "email"  # type: ignore[misc]
    assert ContactReceived.model_validate_json(event.model_dump_json()) == event


def test_every_event_type_has_a_unique_versioned_name() -> None:
    names = [event.type_name() for event in EVENT_TYPES]
    assert len(names) == len(set(names))
    assert all(name.endswith(".v1") for name in names)


def test_topology_prefix_isolates_every_name() -> None:
    plain, isolated = Topology(), Topology("run42.")
    assert plain.exchange == "priyom.bus"
    assert isolated.exchange == "run42.priyom.bus"
    assert all(spec.name.startswith("run42.") for spec in isolated.queues.values())
    assert isolated.queue("tickets.contacts").retry_name == "run42.tickets.contacts.delay"
