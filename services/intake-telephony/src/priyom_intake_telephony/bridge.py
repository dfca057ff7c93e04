"""From call progress to the bus: the caller's card looked up once per call, events published in order.

The tracker (or the CTI webhook) says what happened; this decides what to publish and when:

* the identity lookup starts when an inbound call reaches the PBX (``Started``), while the dialplan and the
  queue run, or at the first ``Ringing`` at the latest; every ringing extension of the call reuses its
  answer, so a queue ringing five agents costs one lookup;
* each call's messages go out one after another (ringing before answered before ended), calls in parallel;
* at hangup the ``ended``/``missed`` event goes out at once, the contact after ``cdr_wait_s``, so a CDR
  that follows the hangup can still add the recording and the billed seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter

from priyom_contracts import CallState, ClientMatch, Event
from priyom_kit import Publish, get_logger

from .messages import CallMessages
from .tracker.call import Answered, Call, Finished, Progress, Ringing, Started

log = get_logger("priyom.intake-telephony.bridge")

Lookup = Callable[[str], Awaitable[ClientMatch | None]]
#: Attempts to publish a finished call's contact before it is given up (logged): the broker is down.
CONTACT_ATTEMPTS = 5
#: Lookups remembered for calls in progress (the tracker follows at most as many calls).
MAX_LOOKUPS = 20_000


class CallBridge:
    """Publishes what calls do. Built once in ``app.py``; :meth:`handle` is called with each event's progress."""

    def __init__(self, messages: CallMessages, publish: Publish, lookup: Lookup, registry: CollectorRegistry,
                 *, cdr_wait_s: float = 1.0, internal_contacts: bool = False) -> None:
        self.messages = messages
        self.publish = publish
        self.lookup = lookup
        self.cdr_wait_s = cdr_wait_s
        self.internal_contacts = internal_contacts
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._lookups: dict[str, tuple[str, asyncio.Task[ClientMatch | None]]] = {}
        self._published = Counter("priyom_telephony_call_events_total", "Call events published", ["state"],
                                  registry=registry)
        self._contacts = Counter("priyom_telephony_contacts_total", "Calls published as contacts", ["outcome"],
                                 registry=registry)

    def handle(self, progress: Iterable[Progress], *, cdr_wait_s: float | None = None) -> None:
        """Schedule what ``progress`` asks for; returns at once (the AMI reader must never wait).

        ``cdr_wait_s`` overrides the wait for a CDR after hangup (the CTI webhook has no CDRs)."""
        for item in progress:
            call = item.call
            if isinstance(item, Started):
                self._lookup(call)  # fetched while the dialplan and the queue run: ready when a phone rings
            elif isinstance(item, Ringing):
                lookup = self._lookup(call)
                self._then(call, self._ringing(item, lookup))
            elif isinstance(item, Answered):
                self._then(call, self._send(self.messages.call_event(call, CallState.ANSWERED, agent=item.agent)))
            elif isinstance(item, Finished):
                self._lookups.pop(call.call_id, None)
                wait = self.cdr_wait_s if cdr_wait_s is None else cdr_wait_s
                self._then(call, self._finished(item, wait))

    async def settled(self, call_id: str) -> None:
        """Wait until what was scheduled for one call so far is published (the CTI webhook answers then)."""
        while (task := self._tails.get(call_id)) is not None:
            await asyncio.gather(task, return_exceptions=True)
            await asyncio.sleep(0)

    async def drain(self) -> None:
        """Wait until everything scheduled so far was published (shutdown, tests)."""
        while self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)
            await asyncio.sleep(0)  # let the finished tasks' callbacks leave ``_tails``

    # -- scheduling ---------------------------------------------------------------------------------------

    def _lookup(self, call: Call) -> asyncio.Task[ClientMatch | None]:
        """One lookup per call and number: a number the dialplan changed (``NewCallerid``) is looked up again."""
        number = "" if call.internal else self.messages.customer_number(call)
        known = self._lookups.get(call.call_id)
        if known is not None and known[0] == number:
            return known[1]
        task = asyncio.create_task(self.lookup(number))
        self._lookups[call.call_id] = (number, task)
        while len(self._lookups) > MAX_LOOKUPS:  # calls whose hangup never came: forget the oldest
            self._lookups.pop(next(iter(self._lookups)))
        return task

    def _then(self, call: Call, step: Awaitable[None]) -> None:
        previous = self._tails.get(call.call_id)

        async def run() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            try:
                await step
            except Exception:  # noqa: BLE001 - one failed publish must not stop the call's later ones
                log.exception("call message not published", call_id=call.call_id)

        task = asyncio.create_task(run())
        self._tails[call.call_id] = task
        task.add_done_callback(lambda done: self._tails.pop(call.call_id, None)
                               if self._tails.get(call.call_id) is done else None)

    # -- steps --------------------------------------------------------------------------------------------

    async def _ringing(self, ringing: Ringing, lookup: asyncio.Task[ClientMatch | None]) -> None:
        client = await lookup
        await self._send(self.messages.call_event(ringing.call, CallState.RINGING, agent=ringing.agent,
                                                  client=client, attempt=ringing.attempt))

    async def _send(self, event: Event) -> None:
        await self.publish(event)
        self._published.labels(getattr(event, "state", "other")).inc()

    async def _finished(self, finished: Finished, cdr_wait_s: float) -> None:
        call = finished.call
        await self._send(self.messages.finished_event(call))
        if call.internal and not self.internal_contacts:
            return
        await asyncio.sleep(cdr_wait_s)
        contact = self.messages.contact(call, datetime.now(UTC))
        for attempt in range(1, CONTACT_ATTEMPTS + 1):
            try:
                await self.publish(contact)
                break
            except Exception as exc:  # noqa: BLE001 - retried, then logged: the broker is unreachable
                if attempt == CONTACT_ATTEMPTS:
                    log.error("call contact lost: the broker refused it", call_id=call.call_id,
                              error=type(exc).__name__)
                    return
                await asyncio.sleep(2 ** (attempt - 1))
        self._contacts.labels(call.outcome).inc()
        log.info("call published as a contact", call_id=call.call_id, outcome=call.outcome,
                 direction="outbound" if call.outbound else "inbound")
