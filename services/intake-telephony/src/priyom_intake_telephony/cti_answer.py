"""What the CTI webhook answers a post, as Zammad's generic CTI does, so a PBX scripted for Zammad acts on it.

Zammad answers a ``newCall`` with an action when its CTI settings ask for one, and ``{}`` otherwise:

* an inbound call from a blocked caller id: ``{"action": "reject", "reason": "busy"}``; the PBX refuses the
  call and still posts its ``hangup``. Here the caller is neither rung nor made into a contact (Zammad only
  notes such a call in its caller log, and a call-back ticket for a caller the company blocked is noise):
  every inbound post from a blocked number is left aside (:meth:`CtiAnswers.refuses`), which needs no memory
  of the rejected calls and so holds across a restart;
* an outbound call when an outgoing caller id is set: ``{"action": "dial", "caller_id": ..., "number": ...}``,
  the number the PBX should present and the number to dial (Zammad's routing table by destination prefix
  is not copied: one caller id for every outbound call);
* everything else (``answer``, ``hangup``, calls with nothing configured): ``{}``, as Zammad does.

Pure: the settings in, the answer out. Numbers are compared in E.164, as Zammad normalises them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .messages import caller_number

Answer = dict[str, str]
REJECT: Answer = {"action": "reject", "reason": "busy"}


class CtiAnswers:
    """The answers Zammad's generic CTI gives, from a block list and an outgoing caller id."""

    def __init__(self, blocked: Iterable[str] = (), outbound_caller_id: str | None = None,
                 region: str = "RU") -> None:
        self.region = region
        self.blocked = frozenset(caller_number(number.strip(), region) for number in blocked if number.strip())
        self.outbound_caller_id = outbound_caller_id or None

    def answer(self, params: Mapping[str, Any]) -> Answer:
        """The answer to one post (already validated: ``event`` and ``direction`` are known values)."""
        if str(params.get("event", "")).lower() != "newcall":
            return {}
        direction = str(params.get("direction") or "in").lower()
        if direction == "in" and self.is_blocked(params.get("from")):
            return dict(REJECT)
        if direction == "out" and self.outbound_caller_id and params.get("to"):
            return {"action": "dial", "caller_id": self.outbound_caller_id, "number": str(params["to"]).strip()}
        return {}

    def refuses(self, params: Mapping[str, Any]) -> bool:
        """An inbound post from a blocked caller: its call is not followed (the newCall was rejected)."""
        return str(params.get("direction") or "in").lower() == "in" and self.is_blocked(params.get("from"))

    def is_blocked(self, number: object) -> bool:
        return bool(self.blocked) and isinstance(number, str) and caller_number(number.strip(), self.region) \
            in self.blocked
