"""Call pickup (``Pickup()``, a ``*8``/``**101`` feature code, a BLF key): another phone takes a ringing call.
Pure.

The picking-up phone first makes a call of its own (its channel, its own ``Linkedid``: the feature code it
dialled). Asterisk 12-22 then masquerades: the ringing channel's place in the picked call is taken by the
picker's channel (the two swap ``Uniqueid`` and ``Linkedid``), the ringing phone's channel hangs up
("answered elsewhere"), the ``Dial`` reports the answer and the picker is bridged with the caller, and the
``Pickup`` event (``Channel`` = the picker, ``Target*`` = the rung channel) comes out somewhere in between:
before, after or without the ``Hangup``, ``DialEnd`` and ``BridgeEnter``. Whichever comes first moves the
picker's channel into the picked call (:meth:`~.assembly.CallTracker.join`, or the ``Linkedid`` the bridge
hands on, :meth:`~.assembly.CallTracker.call_of`), and its own call merges into the picked one; this event
adds who answered when nothing else said it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .call import Progress
from .event_fields import header

if TYPE_CHECKING:
    from .assembly import CallTracker


def pickup(tracker: CallTracker, event: Mapping[str, Any], at: datetime) -> list[Progress]:
    """The picker's channel joins the picked call (its own call merges into it); the picker answered."""
    picked = tracker.call_by_channel(header(event, "TargetUniqueid"), header(event, "TargetLinkedid"))
    picker = header(event, "Uniqueid")
    if picked is None or picker is None:
        return []
    tracker.join(picked, picker)
    if picked.outbound or picked.originated:
        return []
    return tracker.answer(picked, tracker.extensions.of_channel(header(event, "Channel")), at)
