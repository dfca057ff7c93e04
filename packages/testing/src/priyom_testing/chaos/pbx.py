"""A PBX that keeps talking: recorded calls (``shared/corpus/ami``) replayed with fresh ids, whoever listens.

Each replay renames every channel and call id of the transcript (``Uniqueid``, ``Linkedid`` and the fields
that name one, the bridges), so a transcript played a hundred times is a hundred calls. The events go out
over a few seconds, as a call's do, interleaved with the other calls'. The PBX does not wait for the gateway:
while intake-telephony is down its events reach nobody, as Asterisk's would.

Which calls count as accepted ("ended call"): those the gateway could know of. A call whose last hangup went
out while a client was logged in was seen ending; a call that was live when a client logged in was listed by
``CoreShowChannels``. A call that started and ended entirely while no one was logged in left no trace the
gateway could read (an AMI client has no history to ask), so it is not counted, and the run reports how many
such calls there were.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from priyom_contracts import contact_id_for

from ..ami_server import Event, FakeAmiServer, load_transcript
from .customers import Accepted

#: Recorded calls with one outside party (inbound, outbound, queues, transfers, forwarding): each is one
#: contact. Calls between two extensions are never contacts (a colleague is not a customer).
CALLS = (
    "voipgrid-cacofonisk/mobile/acceptance_simple.json",
    "voipgrid-cacofonisk/originate/ctd-account-world.json",
    "voipgrid-cacofonisk/queue/queue_simple.json",
    "voipgrid-cacofonisk/queue/queue_group.json",
    "voipgrid-cacofonisk/queue/queue_blind_xfer.json",
    "voipgrid-cacofonisk/simple/a_created_no_answer.json",
    "voipgrid-cacofonisk/xfer_blonde/xfer_blonde_reject.json",
    "voipgrid-cacofonisk/xfer_misc/call_forwarding.json",
    "voipgrid-cacofonisk/xfer_misc/call_forwarding_to_group.json",
)
#: The PBX's name in intake-telephony's keys (``INTAKE_TELEPHONY_PBX_ID``'s default).
PBX_ID = "pbx"


def _names_a_call(key: str) -> bool:
    lowered = key.lower()
    return lowered.endswith(("uniqueid", "linkedid")) or lowered == "bridgeuniqueid"


def renamed(events: Sequence[Event], prefix: str) -> list[Event]:
    """The transcript as a new call: every id it uses prefixed, so it collides with no other replay."""
    return [{key: (f"{prefix}{value}" if _names_a_call(key) and value and value != "<null>" else value)
             for key, value in event.items()} for event in events]


def linkedid(events: Sequence[Event]) -> str:
    """The call's id: the ``Linkedid`` of its first channel (intake-telephony's ``call_id``)."""
    return next(e["Linkedid"] for e in events if e.get("Event") == "Newchannel")


@dataclass
class CallRecord:
    call_id: str
    logins_at_start: int
    known: bool = False  # the gateway could know of it (see the module's docstring)


@dataclass
class ReplayingPbx:
    ami: FakeAmiServer
    corpus: Path
    run: str
    calls: list[CallRecord] = field(default_factory=list)
    _transcripts: list[list[Event]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._transcripts = [load_transcript(self.corpus / "ami" / name) for name in CALLS]

    async def call(self, n: int, seconds: float) -> None:
        """One call, its events spread over about ``seconds``; recorded once its last event went out."""
        events = renamed(random.choice(self._transcripts), f"c{self.run}n{n}-")
        record = CallRecord(linkedid(events), self.ami.logins)
        self.calls.append(record)
        pause = seconds / max(1, len(events))
        for event in events:
            await self.ami.send([event])
            await asyncio.sleep(pause * random.uniform(0.2, 1.8))
        record.known = self.ami.clients > 0 or self.ami.logins > record.logins_at_start

    def ended(self) -> list[Accepted]:
        """The calls the gateway could know of, as accepted contacts (found by their contact id)."""
        return [Accepted("phone", call.call_id, str(contact_id_for(f"{PBX_ID}:{call.call_id}")))
                for call in self.calls if call.known]

    def unseen(self) -> int:
        """Calls that began and ended while no client was logged in."""
        return sum(1 for call in self.calls if not call.known)
