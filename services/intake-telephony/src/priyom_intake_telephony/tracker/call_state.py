"""A :class:`~.call.Call` as JSON and back, for the table of calls in progress. Pure.

Every field is kept, so a call resumed after a restart is the call the tracker was following: its channels
(which ``CoreShowChannels`` is compared with), the phones ringing, the agents, the times.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from .call import Call

_TIMES = ("started_at", "answered_at", "ended_at")


def call_to_json(call: Call) -> dict[str, Any]:
    """The call as a JSON object (sets as sorted lists, times in ISO 8601)."""
    state: dict[str, Any] = {}
    for item in fields(call):
        value = getattr(call, item.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, set):
            value = sorted(value)
        elif item.name == "bridges":
            value = {bridge: sorted(members) for bridge, members in value.items()}
        elif isinstance(value, (dict, list)):
            value = type(value)(value)
        state[item.name] = value
    return state


def call_from_json(state: dict[str, Any]) -> Call:
    """The call :func:`call_to_json` wrote; fields it does not know (an older or newer release) are skipped."""
    known = {item.name for item in fields(Call)}
    values = {key: value for key, value in state.items() if key in known}
    for name in _TIMES:
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(values[name])
    values["ringing"] = set(values.get("ringing") or ())
    values["channels"] = set(values.get("channels") or ())
    values["bridges"] = {bridge: set(members) for bridge, members in (values.get("bridges") or {}).items()}
    return Call(**values)
