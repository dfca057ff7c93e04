"""Subject and text of a corpus e-mail, read with the standard library (the router never parses mail in
production: intake-email does; these tests only need the words)."""

from __future__ import annotations

import email
import html
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

_TAG = re.compile(r"<[^>]+>")


def _part_text(part: EmailMessage) -> str:
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):
        raw = part.get_payload(decode=True) or b""
        raw = raw if isinstance(raw, bytes) else b""
        try:
            text = raw.decode(part.get_content_charset() or "utf-8", errors="replace")
        except LookupError:  # an invented charset name (x-unknown, utf-8-purple): read as UTF-8
            text = raw.decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        text = html.unescape(_TAG.sub(" ", text))
    return text


def read_mail(path: Path) -> tuple[str, str]:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    subject = str(message.get("subject", "") or "")
    texts = [_part_text(p) for p in message.walk() if p.get_content_maintype() == "text"]  # type: ignore[arg-type]
    return subject, "\n".join(texts)
