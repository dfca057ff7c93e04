"""What a customer may submit through the web form, and how it is checked. Pure: no HTTP, no broker.

Every problem is reported in FastAPI's validation shape (``{"loc": ["body", field], "msg", "type"}``), one
entry per field, so the JSON API and the HTML form show the same messages whichever check found them.
The submitted values are never echoed back in errors: they are personal data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

Optional200 = Annotated[str, StringConstraints(max_length=200)] | None

#: Digits with the separators people type; identity normalises the number later.
_PHONE = re.compile(r"^\+?[0-9\s\-().]{5,40}$")

FieldError = dict[str, Any]


@dataclass(frozen=True)
class Limits:
    """The settings the checks depend on, passed in so the checks stay pure."""

    max_message_chars: int
    max_attachments: int
    max_attachment_bytes: int
    require_consent: bool


class FormInvalid(Exception):
    """The submission has errors; ``errors`` is the list answered as the 422 ``detail``."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


class ContactForm(BaseModel):
    """The fields of the form. Empty strings (what an empty form input sends) count as missing."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    name: Optional200 = None
    email: EmailStr | None = Field(default=None, max_length=254)
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    company: Optional200 = None
    subject: Optional200 = None
    message: Annotated[str, StringConstraints(min_length=1)]
    consent: bool = False

    @field_validator("name", "email", "phone", "company", "subject", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("phone")
    @classmethod
    def _looks_like_phone(cls, value: str | None) -> str | None:
        if value is not None and (not _PHONE.match(value) or sum(c.isdigit() for c in value) < 5):
            raise ValueError("phone number may hold only digits, spaces, +, -, ( and ), at least 5 digits")
        return value

    @field_validator("message")
    @classmethod
    def _message_fits(cls, value: str, info: ValidationInfo) -> str:
        limit = (info.context or {}).get("max_message_chars")
        if limit is not None and len(value) > limit:
            raise ValueError(f"message is longer than {limit} characters")
        return value


def _error(field: str, msg: str, kind: str) -> FieldError:
    return {"type": kind, "loc": ["body", field], "msg": msg}


def validate_fields(data: Any, limits: Limits) -> ContactForm:
    """Check the text fields; raise :class:`FormInvalid` listing every field that is wrong."""
    if not isinstance(data, dict):
        raise FormInvalid([{"type": "model_attributes_type", "loc": ["body"],
                            "msg": "the body must be an object with the form's fields"}])
    errors: list[FieldError] = []
    form: ContactForm | None = None
    try:
        form = ContactForm.model_validate(data, context={"max_message_chars": limits.max_message_chars})
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_context=False, include_input=False):
            errors.append({"type": err["type"], "loc": ["body", *err["loc"]], "msg": err["msg"]})
    failed = {e["loc"][1] for e in errors if len(e["loc"]) > 1}
    # Only when neither was given at all: an invalid email already has its own message.
    if not failed & {"email", "phone"} and not _given(data, "email") and not _given(data, "phone"):
        msg = "give an email or a phone number (at least one of email, phone is required)"
        errors += [_error(field, msg, "email_or_phone_required") for field in ("email", "phone")]
    if limits.require_consent and "consent" not in failed and not (form.consent if form else _truthy(data)):
        msg = "consent to personal data processing is required"
        errors.append(_error("consent", msg, "consent_required"))
    if errors:
        raise FormInvalid(errors)
    assert form is not None
    return form


def _given(data: dict[str, Any], key: str) -> bool:
    value = data.get(key)
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def _truthy(data: dict[str, Any]) -> bool:
    return str(data.get("consent", "")).strip().lower() in {"1", "true", "on", "yes", "y", "t"}


def check_attachments(sizes: list[int], limits: Limits) -> None:
    """Count and size of the files; raise :class:`FormInvalid` naming ``attachments``."""
    errors: list[FieldError] = []
    if len(sizes) > limits.max_attachments:
        errors.append(_error("attachments", f"at most {limits.max_attachments} files may be attached",
                             "too_many_attachments"))
    for index, size in enumerate(sizes):
        if size > limits.max_attachment_bytes:
            errors.append({"type": "attachment_too_large", "loc": ["body", "attachments", index],
                           "msg": f"file is larger than {limits.max_attachment_bytes} bytes"})
    if errors:
        raise FormInvalid(errors)


def safe_filename(raw: str | None) -> str:
    """The last path component of a client's file name, without control characters, at most 255 chars."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    return name[:255] or "attachment"


def safe_content_type(raw: str | None) -> str:
    """The declared type if it looks like ``type/subtype``; we never trust it for anything but display."""
    value = (raw or "").split(";", 1)[0].strip().lower()
    token = r"[a-z0-9!#$&^_.+-]+"
    return value if re.fullmatch(f"{token}/{token}", value) else "application/octet-stream"
