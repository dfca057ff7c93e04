"""What a dead letter says about itself, read from its AMQP properties and headers, and what may be done with
it: pure, no broker and no database, so every rule here is tested on plain values.

A dead letter comes from one of three places, and each says where it came from differently:

* a consumer gave up on a bus message (the kit's failure policy): ``x-original-queue`` names a topology queue,
  the body is the message as published, and ``x-error`` says why;
* an intake kept something that arrived but could not become a message (:meth:`Bus.dead_letter`):
  ``x-original-queue`` names the source (``smtp``, ``imap:<mailbox>``, ``telegram``) and the body is what
  arrived (a mail, a Telegram update), not a bus message;
* the broker dead-lettered a message itself (a queue's delivery limit, reached only if a service crashed
  mid-retry): no ``x-error``, an ``x-death`` list instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from priyom_contracts import EVENT_TYPES, Event, Topology
from priyom_kit.logging import mask_pii

#: Longest preview shown in the list, in characters.
PREVIEW_CHARS = 160
#: Message types by their AMQP ``type`` (``contact.received.v1``).
EVENTS_BY_TYPE: dict[str, type[Event]] = {event.type_name(): event for event in EVENT_TYPES}


@dataclass(frozen=True)
class DeadLetterFacts:
    """One dead letter as it is stored: what failed, where, when and why, beside the body itself."""

    fingerprint: str
    source: str
    service: str | None
    channel: str | None
    routing_key: str | None
    message_type: str | None
    message_id: str | None
    correlation_id: str | None
    content_type: str | None
    error_kind: str | None
    reason: str
    attempts: int | None
    failed_at: datetime
    headers: dict[str, Any]


def read_facts(body: bytes, headers: dict[str, Any], *, routing_key: str | None, message_type: str | None,
               message_id: str | None, correlation_id: str | None, content_type: str | None,
               arrived_at: datetime) -> DeadLetterFacts:
    """The facts of one delivery from the dead-letter queue, whichever of the three places it came from."""
    plain = json_safe(headers)
    death = _first_death(plain)
    source = str(plain.get("x-original-queue") or death.get("queue") or "unknown")
    key = str(plain.get("x-original-routing-key") or _first(death.get("routing-keys")) or routing_key or "") or None
    if "x-error" in plain:
        reason, kind = str(plain["x-error"]), plain.get("x-error-kind")
    else:
        reason, kind = f"dead-lettered by the broker: {death.get('reason', 'no reason given')}", "broker"
    failed_at = _parse_time(plain.get("x-failed-at")) or arrived_at
    attempts = plain.get("x-attempts", death.get("count"))
    # Two deliveries of the same dead-lettering (an ack lost after the commit) agree on all of these; the
    # same message dead-lettered again after a replay has a new x-failed-at, so it is a new letter.
    identity = json.dumps([source, key, message_id, plain.get("x-failed-at"), plain.get("x-attempts")])
    fingerprint = hashlib.sha256(identity.encode() + b"\0" + body).hexdigest()
    # Every text cut to its column and rid of NUL (PostgreSQL refuses it): a letter that cannot be stored
    # would be held and retried for ever.
    return DeadLetterFacts(
        fingerprint=fingerprint, source=_clean(source, 255) or "unknown",
        service=_clean(plain.get("x-failed-by"), 64), channel=_clean(channel_of(key), 32),
        routing_key=_clean(key, 255), message_type=_clean(message_type or _type_of(key), 64),
        message_id=_clean(message_id, 255), correlation_id=_clean(correlation_id, 255),
        content_type=_clean(content_type, 255), error_kind=_clean(kind, 32), reason=_clean(reason, 2000) or "",
        attempts=attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else None,
        failed_at=failed_at, headers=plain,
    )


def channel_of(routing_key: str | None) -> str | None:
    """The channel a routing key names (``contact.received.v1.web`` → ``web``)."""
    if not routing_key or routing_key.count(".") < 3:
        return None
    return routing_key.rsplit(".", 1)[1][:32]


def _type_of(routing_key: str | None) -> str | None:
    return routing_key.rsplit(".", 1)[0] if routing_key and routing_key.count(".") >= 3 else None


# -- a safe preview -----------------------------------------------------------------------------------------

_SUBJECT = re.compile(rb"^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def preview(body: bytes, content_type: str | None) -> str:
    """A short look at the body that names nobody: the subject and text of a contact, a mail's subject, or
    the start of other text, with e-mail addresses and phone numbers masked as the logs mask them.

    Senders' names and identifiers are left out on purpose; an admin who needs the whole letter downloads
    its body (``GET /api/v1/dead-letters/{id}/body``), which is never part of a list shown on a screen.
    """
    data = _json(body)
    if isinstance(data, dict):
        text = _contact_text(data)
    elif _looks_like_mail(body, content_type):
        found = _SUBJECT.search(body[:65536])
        text = f"mail: {found.group(1).decode('utf-8', 'replace')}" if found else "mail without a subject"
    else:
        decoded = body[:4096].decode("utf-8", "replace")
        printable = sum((ch.isprintable() and ch != "\ufffd") or ch in "\r\n\t" for ch in decoded)
        text = decoded if decoded and printable / len(decoded) > 0.9 else f"{len(body)} bytes of binary data"
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return _shorten(mask_pii(" ".join(printable.split())))


def _contact_text(data: dict[str, Any]) -> str:
    contact = data.get("contact") if isinstance(data.get("contact"), dict) else None
    if contact is not None:
        parts = [contact.get("subject"), contact.get("body")]
        return " — ".join(str(part) for part in parts if part) or "contact without text"
    if isinstance(data.get("message"), dict):  # a Telegram update
        return str(data["message"].get("text") or data["message"].get("caption") or "messenger update")
    # Another message: its field names and short scalar values, never nested personal data.
    shown = [f"{k}={v}" for k, v in data.items() if isinstance(v, (str, int, float, bool)) and len(str(v)) < 80]
    return ", ".join(shown) or "JSON object"


def _looks_like_mail(body: bytes, content_type: str | None) -> bool:
    if content_type and content_type.startswith("message/"):
        return True
    head = body[:2048].lower()
    return any(head.startswith(name) or b"\n" + name in head for name in (b"received:", b"from:", b"subject:",
                                                                          b"return-path:", b"message-id:"))


def _shorten(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


# -- what a replay means ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redeliver:
    """A bus message a consumer gave up on: back on that consumer's queue, as it was."""

    queue: str


@dataclass(frozen=True)
class Republish:
    """Something an intake kept whose body is after all a valid message of the type its routing key names:
    published as that message (its own id and idempotency key, so a repeat is harmless)."""

    event: Event


@dataclass(frozen=True)
class NotReplayable:
    reason: str


Replay = Redeliver | Republish | NotReplayable


def replay_of(source: str, routing_key: str | None, body: bytes, topology: Topology) -> Replay:
    """How a dead letter can be put back, or why it cannot.

    A raw intake letter (a mail over a parse limit, an unreadable Telegram update) is not a bus message and
    has no queue to go back to: re-reading it is the intake's work, so it is marked not replayable with the
    reason; the person fixes the cause, has the customer's text entered or re-sent, and discards it.
    """
    if source in {spec.name for spec in topology.queues.values()}:
        return Redeliver(source)
    event_type = EVENTS_BY_TYPE.get(_type_of(routing_key) or "")
    if event_type is None:
        return NotReplayable(f"what arrived at {source} has no message type to be replayed as")
    try:
        return Republish(event_type.model_validate_json(body))
    except (ValidationError, ValueError):
        return NotReplayable(f"what arrived at {source} is not a valid {event_type.type_name()} message, "
                             "so it cannot be put on the bus; it needs the channel's own handling")


# -- header values -----------------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """Headers as JSON can store them: AMQP tables may hold bytes, timestamps and decimals."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").replace("\x00", "")
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or infinity
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return str(value)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _first_death(headers: dict[str, Any]) -> dict[str, Any]:
    deaths = headers.get("x-death")
    return deaths[0] if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict) else {}


def _first(values: Any) -> Any:
    return values[0] if isinstance(values, list) and values else None


def _clean(value: Any, limit: int) -> str | None:
    return None if value is None else str(value).replace("\x00", "")[:limit]


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
