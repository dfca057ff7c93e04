"""What a call becomes on the bus: ``CallEvent``s while it rings and moves on, one ``ContactReceived`` at hangup.

Pure: built from a tracked :class:`~.tracker.call.Call` and the client card identity found, nothing else. The
idempotency keys come from the PBX's id and the call's ``Linkedid``, so a call replayed after a reconnect
publishes the same keys and every consumer drops the repeat.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache

import phonenumbers

from priyom_contracts import (
    CallDetails,
    CallDirection,
    CallEvent,
    CallOutcome,
    CallState,
    ClientLookupReply,
    ClientMatch,
    Contact,
    ContactReceived,
    MatchKind,
    Sender,
    ThreadHint,
    contact_id_for,
)

from .channels import Extensions
from .tracker.call import Call

CHANNEL = "phone"


@lru_cache(maxsize=65_536)
def caller_number(raw: str | None, region: str) -> str:
    """E.164 when the number parses as a possible phone number, else the raw number (an extension)."""
    if not raw:
        return ""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return raw[:64]
    if not phonenumbers.is_possible_number(parsed):
        return raw[:64]
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def contact_key(pbx_id: str, call: Call) -> str:
    """The call's identity across the bus: the PBX and the ``Linkedid``."""
    return f"{pbx_id}:{call.call_id}"


def contact_id(pbx_id: str, call: Call) -> uuid.UUID:
    return contact_id_for(contact_key(pbx_id, call))


def thread_key(pbx_id: str, call: Call) -> str:
    """The conversation a call's contacts share: the one opened during the call and the one at hangup."""
    return f"call:{contact_key(pbx_id, call)}"


def client_match(reply: ClientLookupReply) -> ClientMatch | None:
    """Identity's answer as the card a pop-up shows; None for an unknown number."""
    if not reply.found or reply.client_id is None:
        return None
    return ClientMatch(client_id=reply.client_id, person_id=reply.person_id, display_name=reply.display_name,
                       first_contact=False, match=MatchKind.EXACT_PHONE, account_manager=reply.account_manager,
                       sla_tier=reply.sla_tier or "standard", organisation=reply.organisation)


class CallMessages:
    """Builds the bus messages of calls of one PBX (``pbx_id``), numbers read in ``region``."""

    def __init__(self, pbx_id: str, region: str, extensions: Extensions) -> None:
        self.pbx_id = pbx_id
        self.region = region
        self.extensions = extensions

    def customer_number(self, call: Call) -> str:
        """The outside party: the caller of an inbound call, the number dialled on an outbound one."""
        raw = call.called if call.outbound else call.caller
        if raw and self.extensions.is_extension(raw) and not call.outbound:
            return raw  # an internal caller: the raw extension, as the pop-up shows it
        return caller_number(raw, self.region)

    def call_event(self, call: Call, state: CallState, *, agent: str | None, client: ClientMatch | None = None,
                   attempt: int = 1) -> CallEvent:
        key = f"{contact_key(self.pbx_id, call)}:{state.value}"
        if state is CallState.RINGING:
            key += f":{agent}:{attempt}"
        elif state is CallState.ANSWERED:
            key += f":{agent}"
        return CallEvent(
            correlation_id=contact_id(self.pbx_id, call), channel=CHANNEL, idempotency_key=key,
            call_id=call.call_id[:128], state=state, caller=self.customer_number(call),
            caller_name=call.caller_name[:256] if call.caller_name else None,
            called=(call.called or None) and call.called[:64], agent=agent,
            direction=CallDirection.OUTBOUND if call.outbound else CallDirection.INBOUND, client=client,
        )

    def finished_event(self, call: Call) -> CallEvent:
        state = CallState.ENDED if call.answered else CallState.MISSED
        return self.call_event(call, state, agent=call.agent)

    def contact(self, call: Call, ended_at: datetime) -> ContactReceived:
        """The call as one contact, published at hangup: who, with whom, how long, and whether to call back."""
        outcome = CallOutcome(call.outcome)
        number = self.customer_number(call)
        call_back = not call.outbound and outcome is not CallOutcome.ANSWERED
        details = CallDetails(
            call_id=call.call_id[:128], direction="outbound" if call.outbound else "inbound", outcome=outcome,
            # Outbound, the caller is the agent who called out; inbound, the customer.
            caller=(call.originator or call.caller or None) if call.outbound else (number or None),
            called=call.called[:64] if call.called else None, agent=call.agent, agents=call.agents[:50],
            queue=call.queue, started_at=call.started_at, answered_at=call.answered_at,
            ended_at=call.ended_at or ended_at, duration_s=call.duration_s,
            recording=call.recording[:1024] if call.recording else None, call_back=call_back,
        )
        key = contact_key(self.pbx_id, call)
        identifier = contact_id(self.pbx_id, call)
        return ContactReceived(
            correlation_id=identifier, channel=CHANNEL, idempotency_key=key,
            contact=Contact(contact_id=identifier, received_at=call.started_at,
                            sender=Sender(name=None if call.outbound else call.caller_name,
                                          phone=number or None),
                            subject=_subject(call, outcome, number), body=_summary(details),
                            registered_by=call.agent, call=details, thread=self._thread(call)),
        )

    def opened_contact(self, call: Call, extension: str, at: datetime) -> ContactReceived:
        """The contact an agent opens while the call goes on (a ticket to write in at once); the call's own
        contact at hangup continues it (same thread key, same caller)."""
        number = self.customer_number(call)
        key = f"{contact_key(self.pbx_id, call)}:opened"
        identifier = contact_id_for(key)
        return ContactReceived(
            correlation_id=identifier, channel=CHANNEL, idempotency_key=key,
            contact=Contact(contact_id=identifier, received_at=at,
                            sender=Sender(name=None if call.outbound else call.caller_name, phone=number or None),
                            subject=_subject(call, CallOutcome.ANSWERED, number),
                            body=f"Opened by the agent on extension {extension} during the call; the call's "
                                 "details follow when it ends.",
                            registered_by=extension, thread=ThreadHint(external_thread_id=thread_key(self.pbx_id, call))),
        )

    def _thread(self, call: Call) -> ThreadHint:
        return ThreadHint(ticket_number=call.ticket_number,
                          external_thread_id=thread_key(self.pbx_id, call) if call.opened_early else None)


def _subject(call: Call, outcome: CallOutcome, number: str) -> str:
    who = number or "a hidden number"
    if call.outbound:
        return f"Outbound call to {who}"
    if outcome is CallOutcome.ANSWERED:
        return f"Call from {who}"
    return f"{'Abandoned' if outcome is CallOutcome.ABANDONED else 'Missed'} call from {who}"


def _summary(details: CallDetails) -> str:
    """A short human summary for the ticket's thread; the structured fields are in ``Contact.call``."""
    lines = [f"{details.direction.capitalize()} call, {details.outcome.value}."]
    if details.queue:
        lines.append(f"Queue: {details.queue}.")
    if details.agents:
        lines.append(f"Agent{'s' if len(details.agents) > 1 else ''}: {', '.join(details.agents)}.")
    if details.duration_s:
        lines.append(f"Talk time: {details.duration_s} s.")
    if details.recording:
        lines.append(f"Recording: {details.recording}")
    if details.call_back:
        lines.append("Nobody spoke to the caller: call back.")
    return "\n".join(lines)
