"""Reading an AMI event: header values as Asterisk sends them, and the event's time. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

_UNKNOWN = {"", "<unknown>", "unknown", "anonymous"}


def header(event: Mapping[str, Any], *keys: str) -> str | None:
    """The first of ``keys`` the event carries with a known value (not empty, not ``<unknown>``), stripped."""
    for key in keys:
        raw = event.get(key)
        if isinstance(raw, list):  # a repeated header: the last one is the current value
            raw = raw[-1] if raw else None
        if raw is not None and str(raw).strip().lower() not in _UNKNOWN:
            return str(raw).strip()
    return None


def event_time(event: Mapping[str, Any], now: datetime | None) -> datetime:
    """``Timestamp`` (``timestampevents=yes``) when Asterisk sent one, else the receiver's clock."""
    stamp = header(event, "Timestamp")
    if stamp is not None:
        try:
            return datetime.fromtimestamp(float(stamp), UTC)
        except ValueError:
            pass
    return now or datetime.now(UTC)
