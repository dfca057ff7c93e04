"""Header values as people read them: RFC 2047 encoded words in any charset, raw 8-bit bytes, folding.

The raw value (``Message.raw_items``) is decoded here rather than through the header classes of
``email.policy.default``, which turn unknown charsets and 8-bit bytes into replacement characters and can
raise on odd syntax; this never raises.
"""

from __future__ import annotations

import re
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses

from .charsets import decode_text

_FOLD = re.compile(r"\r?\n[ \t]+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,900})>")
#: Longest header value we decode; the rest of a larger one (a To: with 20,000 addresses) is ignored.
MAX_VALUE_CHARS = 16 * 1024


def raw_header(message: Message, name: str) -> str | None:
    """The first raw value of a header (unparsed, folding kept), or None."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def _as_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def decode_value(raw: str | None) -> str:
    """Decode one header value to readable text; never raises."""
    if not raw:
        return ""
    value = _FOLD.sub(" ", raw[:MAX_VALUE_CHARS]).strip()
    if not _ENCODED_WORD.search(value):
        return decode_text(_as_bytes(value), None).strip()
    try:
        chunks = decode_header(value)
    except Exception:  # noqa: BLE001 - a broken encoded word is left as written
        return decode_text(_as_bytes(value), None).strip()
    out = []
    for chunk, charset in chunks:
        data = chunk if isinstance(chunk, bytes) else _as_bytes(chunk)
        out.append(decode_text(data, charset))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def header_text(message: Message, name: str) -> str:
    return decode_value(raw_header(message, name))


#: Where a mail says who wrote it, in the order a reply should trust them (RFC 5322 §3.6.2; Return-Path is the
#: envelope sender the receiving server recorded).
SENDER_HEADERS = ("From", "Sender", "Reply-To", "Return-Path")


def senders(message: Message) -> list[tuple[str, str]]:
    """Every (display name, address) the sender headers give, in :data:`SENDER_HEADERS` order.

    All of them, not just the first: a ``From`` may be unusable (``undisclosed``, ``user@localhost``, no
    domain) while ``Reply-To`` or ``Return-Path`` is fine, and the caller decides which one it can use.
    """
    found: list[tuple[str, str]] = []
    for name in SENDER_HEADERS:
        raw = raw_header(message, name)
        if not raw:
            continue
        for display, address in getaddresses([_FOLD.sub(" ", raw[:MAX_VALUE_CHARS])]):
            if "@" in address and (address := address.strip()) not in (a for _, a in found):
                found.append((decode_value(display), address))
    return found


def sender(message: Message) -> tuple[str, str]:
    """(display name, address) of ``From``, falling back to ``Sender``, ``Reply-To`` and ``Return-Path``."""
    found = senders(message)
    return found[0] if found else ("", "")


def addresses(message: Message, name: str) -> list[str]:
    raw = raw_header(message, name)
    if not raw:
        return []
    return [address for _, address in getaddresses([_FOLD.sub(" ", raw[:MAX_VALUE_CHARS])]) if "@" in address]


def message_ids(raw: str | None) -> list[str]:
    """The ``<id>`` tokens of Message-ID, In-Reply-To or References, without angle brackets."""
    if not raw:
        return []
    return _MESSAGE_ID.findall(raw[:MAX_VALUE_CHARS])
