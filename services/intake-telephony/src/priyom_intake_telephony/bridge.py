"""From call progress to the bus: the caller's card looked up once per call, events published in order.

The tracker (or the CTI webhook) says what happened; this decides what to publish and when:

* the identity lookup starts when an inbound call reaches the PBX (``Started``), while the dialplan and the
  queue run, or at the first ``Ringing`` at the latest; every ringing extension of the call reuses its
  answer, so a queue ringing five agents costs one lookup;
* each call's messages go out one after another (ringing before answered before ended), calls in parallel;
* at hangup the finished call is saved (:mod:`.call_journal`) before the ``ended``/``missed`` event goes
  out, and the contact is staged in the outbox after ``cdr_wait_s``, so a CDR that follows the hangup can
  still add the recording and the billed seconds; the outbox publishes it, however long the broker is down;
* a call between two extensions pops up (the colleague sees who calls) and is announced as ended, but it
  never becomes a contact. Zammad keeps internal calls in its caller log only and opens no ticket for them;
  Chatwoot's conversations are with contacts, never between agents. A contact is a customer reaching the
  company: identity files it on a customer's card and refuses an extension as a phone number, so a setting
  that made internal calls into contacts (``INTAKE_TELEPHONY_INTERNAL_CONTACTS``, removed) only ever
  produced dead letters. Internal calls still pop up and their end is still announced (``call.event``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter

from priyom_contracts import CallState, ClientMatch, ContactReceived, Event
from priyom_kit import Publish, get_logger

from .call_journal import AMI, CallJournal, Source
from .messages import CallMessages
from .tracker.call import Answered, Call, Finished, Progress, Ringing, Started

log = get_logger("priyom.intake-telephony.bridge")

Lookup = Callable[[str], Awaitable[ClientMatch | None]]
#: Lookups remembered for calls in progress (the tracker follows at most as many calls).
MAX_LOOKUPS = 20_000


class CallBridge:
    """Publishes what calls do. Built once in ``app.py``; :meth:`handle` is called with each event's progress."""

    def __init__(self, messages: CallMessages, publish: Publish, lookup: Lookup, registry: CollectorRegistry,
                 journal: CallJournal, *, cdr_wait_s: float = 1.0) -> None:
        self.messages = messages
        self.publish = publish
        self.journal = journal
        self.lookup = lookup
        self.cdr_wait_s = cdr_wait_s
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._lookups: dict[str, tuple[str, asyncio.Task[ClientMatch | None]]] = {}
        self._published = Counter("priyom_telephony_call_events_total", "Call events published", ["state"],
                                  registry=registry)
        self._contacts = Counter("priyom_telephony_contacts_total", "Calls published as contacts", ["outcome"],
                                 registry=registry)

    def handle(self, progress: Iterable[Progress], *, cdr_wait_s: float | None = None,
               source: Source = AMI) -> None:
        """Schedule what ``progress`` asks for; returns at once (the AMI reader must never wait).

        ``cdr_wait_s`` overrides the wait for a CDR after hangup (the CTI webhook has no CDRs); ``source``
        says which calls these are, for the journal."""
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
                self.journal.finishing(call.call_id)
                wait = self.cdr_wait_s if cdr_wait_s is None else cdr_wait_s
                self._then(call, self._finished(item, wait, source))

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

    def contact(self, call: Call) -> ContactReceived:
        """The finished call as a contact (also for a call that had finished before a restart)."""
        return self.messages.contact(call, datetime.now(UTC))

    async def _finished(self, finished: Finished, cdr_wait_s: float, source: Source) -> None:
        call = finished.call
        makes_contact = not call.internal  # see the module docstring: a colleague is not a customer
        if makes_contact:
            await self.journal.finish(call, source)  # durable before the end is announced
        else:
            await self.journal.forget(call.call_id)
        try:
            await self._send(self.messages.finished_event(call))
        except Exception as exc:  # noqa: BLE001 - the pop-up's end only; the contact is kept either way
            log.warning("call end not announced", call_id=call.call_id, error=type(exc).__name__)
        if not makes_contact:
            return
        await asyncio.sleep(cdr_wait_s)
        await self.journal.to_contact(call.call_id, self.contact(call))
        self._contacts.labels(call.outcome).inc()
        log.info("call staged as a contact", call_id=call.call_id, outcome=call.outcome,
                 direction="outbound" if call.outbound else "inbound")
