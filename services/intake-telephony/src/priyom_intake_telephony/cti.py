"""The generic CTI webhook for PBXes that cannot speak AMI (cloud telephony): Zammad's generic CTI shape.

A PBX posts ``event=newCall|answer|hangup`` with ``callId``, ``from``, ``to``, ``direction`` (``in``/``out``),
``user`` (the agent or agents, repeatable as ``user[]``), ``answeringNumber`` and ``cause``, form-encoded or as
JSON. Each post becomes the same progress an AMI call produces (:mod:`.tracker`), so pop-ups and contacts do
not depend on which kind of PBX sent them. Pure: no HTTP here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .tracker.call import Answered, Call, Finished, Progress, Ringing

#: Calls remembered between their webhook posts; a PBX that never posts the hangup cannot grow it forever.
MAX_OPEN_CALLS = 10_000
MAX_FIELD = 128


class CtiError(ValueError):
    """The post cannot be a call event (no ``callId``, an unknown ``event``)."""


def _text(params: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = params.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None and str(value).strip():
            return str(value).strip()[:MAX_FIELD]
    return None


def _users(params: Mapping[str, Any]) -> list[str]:
    value = params.get("user[]", params.get("user"))
    values = value if isinstance(value, list) else [value] if value is not None else []
    return [str(v).strip()[:MAX_FIELD] for v in values if str(v).strip()][:20]


class CtiCalls:
    """Follows calls reported by webhook posts, keyed by ``callId``."""

    def __init__(self) -> None:
        self.calls: OrderedDict[str, Call] = OrderedDict()

    def feed(self, params: Mapping[str, Any], now: datetime) -> list[Progress]:
        event = (_text(params, "event") or "").lower()
        call_id = _text(params, "callId", "call_id")
        if call_id is None:
            raise CtiError("callId is required")
        if event not in ("newcall", "answer", "hangup"):
            raise CtiError("event must be newCall, answer or hangup")
        call = self.calls.get(call_id)
        progress: list[Progress] = []
        if call is None:
            call = self._new(call_id, params, now)
            if event == "newcall" and not call.outbound:
                for agent in _users(params):
                    call.ringing.add(agent)
                    call.rings[agent] = 1
                    progress.append(Ringing(call, agent, 1))
        if event == "answer":
            agent = _text(params, "answeringNumber") or next(iter(_users(params)), None) or call.originator
            if agent is not None and (not call.agents or call.agents[-1] != agent):
                call.answered_at = call.answered_at or now
                call.agents.append(agent)
                call.ringing.clear()
                progress.append(Answered(call, agent))
        elif event == "hangup":
            if not call.answered and (_text(params, "answeringNumber") is not None
                                      and (_text(params, "cause") or "").lower() == "normalclearing"):
                # Some PBXes post only the hangup: the answering number says the call was taken.
                call.answered_at = call.started_at
                call.agents.append(_text(params, "answeringNumber") or "")
            call.ended_at = now
            call.ringing.clear()
            del self.calls[call_id]
            progress.append(Finished(call))
        return progress

    def _new(self, call_id: str, params: Mapping[str, Any], now: datetime) -> Call:
        outbound = (_text(params, "direction") or "in").lower() == "out"
        users = _users(params)
        call = Call(call_id=call_id, started_at=now, caller=_text(params, "from"), called=_text(params, "to"),
                    outbound=outbound, originator=users[0] if outbound and users else None)
        call.caller_name = _text(params, "callerName", "caller_name")
        self.calls[call_id] = call
        while len(self.calls) > MAX_OPEN_CALLS:
            self.calls.popitem(last=False)
        return call
