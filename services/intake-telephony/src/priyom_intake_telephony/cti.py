"""The generic CTI webhook for PBXes that cannot speak AMI (cloud telephony): Zammad's generic CTI shape.

A PBX posts ``event=newCall|answer|hangup`` with ``callId``, ``from``, ``to``, ``direction`` (``in``/``out``),
``user`` (repeatable as ``user[]``), ``queue``, ``answeringNumber`` and ``cause``, form-encoded or as JSON.
Each post becomes the same progress an AMI call produces (:mod:`.tracker`), so pop-ups and contacts do not
depend on which kind of PBX sent them. Pure: no HTTP here; what the webhook answers is :mod:`.cti_answer`.

Zammad's ``user[]`` are the agents' real names ("Christopher Miller"), not extensions: a name the staff
directory knows (:mod:`.staff_directory`, tickets' staff records) becomes that member's extension, so the
pop-up reaches their console; a value that already is an extension stays one (PBXes written for this webhook
before it followed Zammad send extensions); any other name is kept as it came, so the call and its contact
still say who took it. ``answeringNumber`` (Zammad looks it up as a user's id, phone or login) is read the
same way.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .channels import Extensions
from .tracker.call import Answered, Call, Finished, Progress, Ringing

#: Calls remembered between their webhook posts; a PBX that never posts the hangup cannot grow it forever.
MAX_OPEN_CALLS = 10_000
MAX_FIELD = 128


class CtiError(ValueError):
    """The post cannot be a call event (no ``callId``, an unknown ``event`` or ``direction``)."""


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


def call_id_of(params: Mapping[str, Any]) -> str | None:
    """The post's ``callId`` (or ``call_id``)."""
    return _text(params, "callId", "call_id")


def validate(params: Mapping[str, Any]) -> None:
    """Raise :class:`CtiError` for a post Zammad would refuse too (it answers an unknown direction with an
    error); a missing ``direction`` is read as inbound."""
    if call_id_of(params) is None:
        raise CtiError("callId is required")
    if (_text(params, "event") or "").lower() not in ("newcall", "answer", "hangup"):
        raise CtiError("event must be newCall, answer or hangup")
    if (_text(params, "direction") or "in").lower() not in ("in", "out"):
        raise CtiError("direction must be in or out")


class CtiCalls:
    """Follows calls reported by webhook posts, keyed by ``callId``; ``extension_of`` finds a staff member's
    extension by name (:meth:`~.staff_directory.StaffDirectory.extension_of`)."""

    def __init__(self, extensions: Extensions | None = None,
                 extension_of: Callable[[str], str | None] | None = None) -> None:
        self.calls: OrderedDict[str, Call] = OrderedDict()
        self.extensions = extensions or Extensions()
        self.extension_of = extension_of or (lambda _: None)

    def take(self, call_id: str, stored: Call | None) -> None:
        """Follow call ``call_id`` as the database has it (None: not at all): with several replicas, the
        PBX's last post about it may have gone to another one."""
        if stored is None:
            self.calls.pop(call_id, None)
        else:
            self.calls[call_id] = stored

    def agent_of(self, user: str) -> str:
        """The extension of a ``user[]``/``answeringNumber`` value when it is one or the directory knows the
        name; else the value itself."""
        if self.extensions.is_extension(user):
            return user
        return self.extension_of(user) or user

    def feed(self, params: Mapping[str, Any], now: datetime) -> list[Progress]:
        validate(params)
        event = (_text(params, "event") or "").lower()
        call_id = call_id_of(params) or ""
        call = self.calls.get(call_id)
        progress: list[Progress] = []
        if call is None:
            call = self._new(call_id, params, now)
            if event == "newcall" and not call.outbound:
                for agent in self._agents(params):
                    call.ringing.add(agent)
                    call.rings[agent] = 1
                    progress.append(Ringing(call, agent, 1))
        call.queue = call.queue or _text(params, "queue")
        if event == "answer":
            answering = _text(params, "answeringNumber")
            agent = self.agent_of(answering) if answering else next(iter(self._agents(params)), call.originator)
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
                call.agents.append(self.agent_of(_text(params, "answeringNumber") or ""))
            call.ended_at = now
            call.ringing.clear()
            del self.calls[call_id]
            progress.append(Finished(call))
        return progress

    def _agents(self, params: Mapping[str, Any]) -> list[str]:
        return [self.agent_of(user) for user in _users(params)]

    def _new(self, call_id: str, params: Mapping[str, Any], now: datetime) -> Call:
        outbound = (_text(params, "direction") or "in").lower() == "out"
        users = self._agents(params)
        call = Call(call_id=call_id, started_at=now, caller=_text(params, "from"), called=_text(params, "to"),
                    outbound=outbound, originator=users[0] if outbound and users else None)
        call.caller_name = _text(params, "callerName", "caller_name")
        self.calls[call_id] = call
        while len(self.calls) > MAX_OPEN_CALLS:
            self.calls.popitem(last=False)
        return call
