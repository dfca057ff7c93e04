"""The calls in progress right now, for the supervisor's dashboard: ringing, and being talked on.

Every tickets process receives every call event (the per-process ``tickets.calls`` fan-out that serves the
pop-ups), so each keeps the same board in memory from them: nothing to store, nothing to share. A process that
starts while calls are in progress does not know them until their next event; a call whose end never came (a
lost event) is forgotten after :data:`FORGET_AFTER`. The live feed tells the dashboards when the board changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from priyom_contracts import CallEvent, CallState

#: A call older than this with no end seen is dropped from the board.
FORGET_AFTER = timedelta(hours=4)


class CallBoard:
    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._calls: dict[str, tuple[CallState, datetime]] = {}
        self._changed = False

    def on_event(self, event: CallEvent) -> None:
        before = self._calls.get(event.call_id)
        if event.state in (CallState.MISSED, CallState.ENDED):
            self._calls.pop(event.call_id, None)
        elif before is None or before[0] is CallState.RINGING:
            # Ringing at one more extension keeps it ringing; once answered, a ring elsewhere (a transfer's
            # consultation) does not make it ringing again.
            self._calls[event.call_id] = (event.state, before[1] if before else self._now())
        self._changed = self._changed or self._calls.get(event.call_id) != before

    def figures(self) -> dict[str, int]:
        horizon = self._now() - FORGET_AFTER
        self._calls = {call: seen for call, seen in self._calls.items() if seen[1] > horizon}
        states = [state for state, _ in self._calls.values()]
        return {"ringing": states.count(CallState.RINGING), "talking": states.count(CallState.ANSWERED)}

    def take_changed(self) -> bool:
        """Whether the board changed since the last call (the live feed's round asks once a round)."""
        changed, self._changed = self._changed, False
        return changed
