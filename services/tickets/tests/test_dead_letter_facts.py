"""What a dead letter says about itself and what a replay of it means: pure rules, plain values, no I/O."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from priyom_contracts import Contact, ContactReceived, Sender, Topology, utcnow
from priyom_tickets.dead_letter_facts import (
    PREVIEW_CHARS,
    NotReplayable,
    Redeliver,
    Republish,
    channel_of,
    preview,
    read_facts,
    replay_of,
)

TOPOLOGY = Topology("p.")
ARRIVED = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def received(text: str = "Касса не печатает чеки") -> ContactReceived:
    contact_id = uuid.uuid4()
    return ContactReceived(
        correlation_id=contact_id, channel="web", idempotency_key=f"form-{contact_id}",
        contact=Contact(contact_id=contact_id, received_at=utcnow(), subject="Касса", body=text,
                        sender=Sender(name="Анна Смирнова", email="anna.smirnova@example.ru",
                                      phone="+7 916 555-01-01")),
    )


def facts(headers: dict, body: bytes = b"{}", routing_key: str | None = "p.router.contacts"):
    return read_facts(body, headers, routing_key=routing_key, message_type="contact.identified.v1",
                      message_id="m-1", correlation_id="c-1", content_type="application/json", arrived_at=ARRIVED)


def test_a_failed_delivery_says_where_when_and_why() -> None:
    read = facts({"x-error": "ValidationError: 3 errors", "x-error-kind": "permanent", "x-attempts": 1,
                  "x-original-queue": "p.router.contacts", "x-original-routing-key": "contact.identified.v1.web",
                  "x-failed-at": "2026-12-03T07:59:00.123456+00:00", "x-failed-by": "router"})
    assert (read.source, read.service, read.channel, read.routing_key) == (
        "p.router.contacts", "router", "web", "contact.identified.v1.web")
    assert (read.error_kind, read.attempts, read.reason) == ("permanent", 1, "ValidationError: 3 errors")
    assert read.failed_at == datetime(2026, 12, 3, 7, 59, 0, 123456, tzinfo=UTC)


def test_what_the_broker_dead_lettered_itself_is_read_from_x_death() -> None:
    read = facts({"x-death": [{"queue": "p.identity.contacts", "reason": "delivery_limit", "count": 20,
                               "routing-keys": [b"contact.received.v1.email"], "time": ARRIVED}]})
    assert (read.source, read.routing_key, read.channel) == ("p.identity.contacts", "contact.received.v1.email",
                                                            "email")
    assert (read.error_kind, read.attempts, read.failed_at) == ("broker", 20, ARRIVED)
    assert "delivery_limit" in read.reason
    json.dumps(read.headers)  # bytes and timestamps made storable


def test_the_same_dead_lettering_has_one_fingerprint_and_a_later_one_another() -> None:
    headers = {"x-error": "boom", "x-original-queue": "p.router.contacts", "x-failed-at": "2026-12-03T07:59:00+00:00"}
    again = dict(headers)
    later = headers | {"x-failed-at": "2026-12-03T09:00:00+00:00"}
    assert facts(headers).fingerprint == facts(again).fingerprint
    assert facts(headers).fingerprint != facts(later).fingerprint
    assert facts(headers).fingerprint != facts(headers, body=b'{"x": 1}').fingerprint


def test_channel_is_the_last_part_of_a_full_routing_key_only() -> None:
    assert channel_of("contact.received.v1.telegram") == "telegram"
    assert channel_of("p.router.contacts") is None
    assert channel_of(None) is None


def test_the_preview_of_a_contact_masks_addresses_and_phones_and_leaves_the_sender_out() -> None:
    event = received("Пишите на anna.smirnova@example.ru или звоните +7 916 555-01-01 после обеда")
    shown = preview(event.model_dump_json().encode(), "application/json")
    assert "Касса" in shown and "a***@example.ru" in shown and "***0101" in shown
    assert "anna.smirnova" not in shown and "555-01-01" not in shown
    assert "Анна Смирнова" not in shown


def test_the_preview_is_truncated() -> None:
    shown = preview(received("очень длинный текст " * 100).model_dump_json().encode(), "application/json")
    assert len(shown) == PREVIEW_CHARS and shown.endswith("…")


def test_the_preview_of_a_mail_is_its_subject_not_its_sender() -> None:
    mail = (b"Return-Path: <ivan.petrov@client.example>\r\nFrom: Ivan Petrov <ivan.petrov@client.example>\r\n"
            b"Subject: =?utf-8?q?Order?= 79165550101\r\n\r\nBody with secrets\r\n")
    shown = preview(mail, "message/rfc822")
    assert shown.startswith("mail: ") and "***0101" in shown
    assert "Ivan" not in shown and "secrets" not in shown and "ivan.petrov" not in shown


def test_the_preview_of_binary_data_says_so() -> None:
    assert preview(bytes(range(256)) * 4, "application/octet-stream") == "1024 bytes of binary data"


def test_a_bus_message_goes_back_to_the_queue_that_gave_up() -> None:
    assert replay_of("p.router.contacts", "contact.identified.v1.web", b"{}", TOPOLOGY) == Redeliver(
        "p.router.contacts")


def test_what_an_intake_kept_is_replayed_only_when_it_is_a_valid_message_of_its_type() -> None:
    event = received()
    valid = replay_of("smtp", "contact.received.v1.web", event.model_dump_json().encode(), TOPOLOGY)
    assert isinstance(valid, Republish) and valid.event == event
    mail = replay_of("imap:support", "contact.received.v1.email", b"Subject: bomb\r\n\r\n", TOPOLOGY)
    assert isinstance(mail, NotReplayable) and "imap:support" in mail.reason
    assert "contact.received.v1" in mail.reason
    unknown = replay_of("telegram", "something.else", b"{}", TOPOLOGY)
    assert isinstance(unknown, NotReplayable)
    other_prefix = replay_of("q.router.contacts", "contact.identified.v1.web", b"{}", TOPOLOGY)
    assert isinstance(other_prefix, NotReplayable)
