"""The form's checks and the event built from it, without I/O."""

from __future__ import annotations

import uuid

import pytest

from priyom_intake_web.form import FormInvalid, Limits, safe_content_type, safe_filename, validate_fields
from priyom_intake_web.intake import CHANNEL, BadIdempotencyKey, identify

LIMITS = Limits(max_message_chars=50, max_attachments=2, max_attachment_bytes=10, require_consent=True)


def errors_of(data: object, limits: Limits = LIMITS) -> dict[str, str]:
    with pytest.raises(FormInvalid) as caught:
        validate_fields(data, limits)
    return {".".join(map(str, e["loc"][1:])): e["type"] for e in caught.value.errors}


def test_valid_form_strips_and_keeps_phone_raw() -> None:
    form = validate_fields({"name": "  Иван  ", "phone": "+7 (912) 345-67-89", "email": "",
                            "message": "Не работает касса", "consent": "on"}, LIMITS)
    assert form.name == "Иван"
    assert form.phone == "+7 (912) 345-67-89"
    assert form.email is None


def test_every_wrong_field_is_named_once() -> None:
    assert errors_of({"message": "", "name": "x" * 201}) == {
        "message": "string_too_short", "name": "string_too_long",
        "email": "email_or_phone_required", "phone": "email_or_phone_required", "consent": "consent_required",
    }


def test_invalid_email_is_not_also_reported_as_missing() -> None:
    assert errors_of({"email": "not-an-email", "message": "hi", "consent": True}) == {"email": "value_error"}


def test_message_length_comes_from_settings() -> None:
    too_long = {"email": "a@example.ru", "message": "x" * 51, "consent": True}
    assert errors_of(too_long) == {"message": "value_error"}


def test_phone_with_letters_is_refused() -> None:
    assert errors_of({"phone": "call me maybe", "message": "hi", "consent": True}) == {"phone": "value_error"}


def test_consent_optional_when_configured_so() -> None:
    limits = Limits(50, 2, 10, require_consent=False)
    assert validate_fields({"email": "a@example.ru", "message": "hi"}, limits).consent is False


def test_body_must_be_an_object() -> None:
    assert errors_of(["message"]) == {"": "model_attributes_type"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C:\\Users\\ivan\\Desktop\\счёт.pdf", "счёт.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        ("a\x00b\nc.txt", "abc.txt"),
        ("x" * 300 + ".txt", "x" * 255),
    ],
)
def test_filenames_lose_their_path(raw: str | None, expected: str) -> None:
    assert safe_filename(raw) == expected


def test_content_type_is_kept_only_when_well_formed() -> None:
    assert safe_content_type("Image/PNG; charset=binary") == "image/png"
    assert safe_content_type("<script>") == "application/octet-stream"
    assert safe_content_type(None) == "application/octet-stream"


def test_idempotency_key_derives_a_stable_contact_id() -> None:
    first, key = identify("  abc-123  ")
    again, _ = identify("abc-123")
    assert key == f"{CHANNEL}:abc-123" and first == again and first.version == 5
    fresh, fresh_key = identify(None)
    assert fresh.version == 4 and fresh_key == f"web:{fresh}"
    assert identify(str(uuid.uuid4()))[0] != first


@pytest.mark.parametrize("header", ["", "has space", "x" * 201, "кириллица"])
def test_unusable_idempotency_keys_are_refused(header: str) -> None:
    with pytest.raises(BadIdempotencyKey):
        identify(header)
