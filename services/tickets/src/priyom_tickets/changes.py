"""Every way a ticket changes: the application layer of tickets.

Each function is one change in the caller's transaction: it decides with the pure modules (lifecycle, sla,
type_correction, …), writes the rows through :mod:`.store` with the history line saying who did what, and
stages in the kit's outbox what the bus must hear (sent if, and only if, the change commits). The API, the bus
handlers and the scheduler change tickets through here and nowhere else (a test holds every other module to that).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import (
    AttachmentRef,
    AutomatedKind,
    ContactRouted,
    ContactType,
    DeliveryReported,
    Event,
    TicketCreated,
    TicketStatus,
    TicketStatusChanged,
    TicketTypeCorrected,
)

from . import call_log, lifecycle, new_tickets, notifications, sender_trust, store, type_correction
from .activities import ActivityKind, edit
from .announcements import ticket_assigned, ticket_created
from .call_backs import call_back_for
from .decisions import decision_title
from .followups import named_ids
from .lifecycle import Actor, Change, Escalation
from .machine_mail import CHANNEL, collector_event, collector_id, collector_key
from .policy import Policy
from .reply_paths import Sent, dead_addresses, opened_by, reach_of, reply_path

#: The most of the first message the router is sent to learn from (the contract's limit).
TRAINING_TEXT_CHARS = 4000
_DETAIL_MAX = 2000


async def _record(session: AsyncSession, ticket: Mapping[str, Any], now: datetime, actor: str, action: str, *,
                  values: Mapping[str, Any] | None = None, details: dict[str, Any] | None = None,
                  from_status: str | None = None, to_status: str | None = None) -> int:
    """The one way a ticket's row changes: the new values and the history line saying why, together."""
    if values:
        await store.update_ticket(session, ticket["seq"], **values)
    return await store.add_history(session, ticket["seq"], at=now, actor=actor, action=action,
                                   from_status=from_status, to_status=to_status, details=details)


async def _stage(session: AsyncSession, now: datetime, *events: Event) -> None:
    await store.stage_events(session, events, now)


# -- contacts from the customer ----------------------------------------------------------------------------


async def register(session: AsyncSession, event: ContactRouted, *, policy: Policy, now: datetime
                   ) -> tuple[RowMapping, TicketCreated]:
    """A new ticket: its first message and history line, announcement, registration notice, missed call's call-back."""
    routing = event.routing
    due = policy.sla.due(event.client.sla_tier, routing.type.value, now) if policy.sla else None
    flag = sender_trust.message_flag(event, policy)
    details: dict[str, Any] = {"team": routing.team, "assignee": routing.assignee, "reason": routing.reason,
                               "sla": "business hours" if due else "router"}
    if due:
        details["router_resolution_due_at"] = routing.resolution_due_at.isoformat()
    first = store.history_row(at=now, actor="tickets", action="registered", to_status=TicketStatus.NEW.value,
                              details=details)  # written with the ticket (new_tickets.py), not by _record
    ticket = await new_tickets.insert_ticket(session, event, now, now.astimezone(policy.zone).year, due, flag=flag,
                                             first_line=first)
    created = ticket_created(event, ticket["number"])
    await _stage(session, now, created)
    if flag:
        await flag_unproven_sender(session, ticket, event, now)
    body = notifications.registration_text(ticket["number"], ticket["resolution_due_at"], policy.zone)
    await _send_to_customer(session, ticket, body=body, kind="notice", author=None, policy=policy, now=now,
                            latest=opened_by(event))
    await file_call(session, ticket, event, now)
    return ticket, created


async def announce_again(session: AsyncSession, created: TicketCreated, now: datetime) -> None:
    """Stage a ticket's announcement again (same message id): a subscriber that missed it gets it."""
    await _stage(session, now, created)


async def append_followup(session: AsyncSession, ticket: Mapping[str, Any], event: ContactRouted, *,
                          policy: Policy, now: datetime) -> TicketStatusChanged | None:
    """A further contact from the customer on an open ticket: one more message, and the move it implies
    (a customer who answers a ticket waiting for them puts it back in work)."""
    flag = sender_trust.message_flag(event, policy)
    await store.insert_inbound_message(session, ticket["seq"], event, flag=flag)
    # The card's addresses as identity sent them now: an agent may have added an e-mail since the last contact.
    await _record(session, ticket, now, "customer", "customer_message",
                  values={"updated_at": now, "reach": reach_of(event.client) or ticket.get("reach")},
                  details={"channel": event.channel, "contact_id": str(event.contact.contact_id)})
    follow = lifecycle.on_customer_message(TicketStatus(ticket["status"]), event.contact.body)
    if flag:  # an unproven sender's word closes or reopens nothing: the agent decides (see sender_trust)
        follow, withheld = sender_trust.screen(follow)
        await flag_unproven_sender(session, ticket, event, now, **withheld)
    moved = None if follow is None else await transition(
        session, ticket, Change(follow), actor=Actor.CUSTOMER, actor_name="customer", policy=policy, now=now)
    await file_call(session, ticket, event, now)
    return moved


async def answer_survey(session: AsyncSession, ticket: Mapping[str, Any], event: ContactRouted,
                        rating: int, comment: str | None, *, policy: Policy, now: datetime) -> bool:
    """The customer's answer to the closing survey: the rating and the message on the closed ticket; False
    when the ticket is already rated (the message is then not taken as an answer). An unproven sender's
    answer is kept and flagged, unrated, for an agent to decide (:mod:`.sender_trust`)."""
    flag = sender_trust.message_flag(event, policy)
    if not flag and not await rate(session, ticket, rating, comment, channel=event.channel, actor="customer",
                                   now=now):
        return False
    await store.insert_inbound_message(session, ticket["seq"], event, flag=flag)
    if flag:
        await flag_unproven_sender(session, ticket, event, now, withheld="rate", rating=rating, comment=comment)
    return True


async def flag_unproven_sender(session: AsyncSession, ticket: Mapping[str, Any], event: ContactRouted,
                               now: datetime, **withheld: Any) -> None:
    """Tell the agent in the ticket's history: a mail claims a known client without proof (``withheld``)."""
    await _record(session, ticket, now, "tickets", sender_trust.FLAG,
                  details=sender_trust.flag_details(event, withheld))


async def file_unanswered_automated(session: AsyncSession, event: ContactRouted, *, policy: Policy,
                                    now: datetime) -> RowMapping:
    """A machine's message that answers no ticket, on the day's collector (:mod:`.machine_mail`), made closed
    on first use: no queue, no notice, no announcement. Returns the collector."""
    day = now.astimezone(policy.zone).date()
    collector = await store.ticket_of_arrival(session, collector_id(day), CHANNEL, collector_key(day))
    if collector is None:
        collector = await new_tickets.insert_ticket(session, collector_event(event, day, policy.zone), now, day.year)
        await _record(session, collector, now, "tickets", "registered", to_status=TicketStatus.CLOSED.value,
                      values={"status": TicketStatus.CLOSED.value, "closed_at": now}, details={"collects": CHANNEL})
    await file_automated(session, collector, event, now)
    return collector


async def file_automated(session: AsyncSession, ticket: Mapping[str, Any], event: ContactRouted,
                         now: datetime) -> None:
    """A machine's message (out-of-office, bounce) on the thread of the ticket it answers; it moves nothing.
    A bounce marks the message of ours it returns as failed (the one it names, else the latest we sent on its
    channel) and flags the ticket until a later reply is delivered (see :mod:`.followups`)."""
    kind = event.contact.automated
    await store.insert_inbound_message(session, ticket["seq"], event)
    await _record(session, ticket, now, event.channel, "automated_message",
                  details={"kind": kind.value if kind else None, "contact_id": str(event.contact.contact_id)})
    if kind != AutomatedKind.BOUNCE:
        return
    failed = await store.our_message(session, ticket["seq"], named=named_ids(event), channel=event.channel)
    detail = f"bounce: {', '.join(event.contact.undeliverable) or 'адрес не указан'}"[:_DETAIL_MAX]
    if failed is not None:
        await store.update_message(session, failed["id"], delivery_status="failed", delivery_detail=detail)
    await _record(session, ticket, now, event.channel, "delivery_failed", values={"delivery_failed_at": now},
                  details={"by": "bounce", "detail": detail,
                           "reply_id": str(failed["reply_id"]) if failed and failed["reply_id"] else None})


async def file_call(session: AsyncSession, ticket: Mapping[str, Any], event: ContactRouted, now: datetime) -> bool:
    """Log the contact's call (call_log.py) and schedule the call-back a missed one asks for; False: no call-back."""
    await call_log.record(session, ticket, event)
    if (planned := call_back_for(ticket, event, now)) is None:
        return False
    await schedule_activity(session, ticket, kind=ActivityKind.CALL_BACK, title=planned.title,
                            owner=planned.owner, due_at=planned.due_at, actor="tickets", now=now)
    return True


# -- the lifecycle -----------------------------------------------------------------------------------------


async def transition(session: AsyncSession, ticket: Mapping[str, Any], change: Change, *, actor: Actor,
                     actor_name: str, policy: Policy, now: datetime) -> TicketStatusChanged:
    """Make the move if the ticket type's state machine allows it; raises ``IllegalTransition`` otherwise."""
    move = lifecycle.plan(ContactType(ticket["type"]), TicketStatus(ticket["status"]), change.action,
                          actor=actor, has_decision=change.decision is not None)
    values = lifecycle.move_values(move, change, now)
    details = {k: v for k, v in (("decision", change.decision), ("decision_text", change.decision_text),
                                 ("result", change.result), ("note", change.note), ("by", actor.value)) if v}
    history_id = await _record(session, ticket, now, actor_name, move.name, values=values, details=details,
                               from_status=ticket["status"], to_status=move.target.value)
    changed = TicketStatusChanged(correlation_id=ticket["contact_id"], channel=ticket["channel"],
        idempotency_key=f"{ticket['number']}:{history_id}", number=ticket["number"],
        old_status=TicketStatus(ticket["status"]), new_status=move.target, changed_by=actor_name[:500])
    await _stage(session, now, changed)
    decision = decision_title(change.decision) if change.decision else None
    body = notifications.status_text(ticket["number"], move.target.value, decision, change.decision_text)
    await _send_to_customer(session, {**ticket, **values}, body=body, kind="notice", author=None, policy=policy,
                            now=now, survey=move.target == TicketStatus.CLOSED)
    return changed


async def close_silent(session: AsyncSession, *, silence: timedelta, policy: Policy, now: datetime,
                       limit: int = 100) -> list[str]:
    """Close tickets that have waited for the customer's word longer than ``silence``; their numbers."""
    rows = await store.tickets_silent_since(session, [s.value for s in lifecycle.SILENCE_CLOSES], now - silence,
                                            limit)
    for ticket in rows:
        note = f"Закрыто автоматически: нет ответа {silence.days} дн."
        await transition(session, ticket, Change("close", note=note), actor=Actor.SYSTEM, actor_name="tickets",
                         policy=policy, now=now)
    return [t["number"] for t in rows]


async def escalate(session: AsyncSession, ticket: Mapping[str, Any], level: Escalation, to: str, *,
                   actor_name: str, note: str | None, now: datetime, notices: Sequence[Event] = ()) -> None:
    """Record an escalation on the ticket and in its history; stage the mail to whom it reached (``notices``)."""
    await _record(session, ticket, now, actor_name, "escalated",
                  values={"escalation": level.value, "escalated_to": to, "escalated_at": now, "updated_at": now},
                  details={"level": level.value, "to": to} | ({"note": note} if note else {}))
    await _stage(session, now, *notices)


async def mark_overdue(session: AsyncSession, *, policy: Policy, now: datetime, limit: int = 500) -> list[str]:
    """Find tickets that went late since the last round: mark them, tell the assignee (a history line the
    console shows and the agent's list sorts by), and escalate to the team head. Their numbers."""
    rows = await store.tickets_newly_late(session, now, limit)
    for ticket in rows:
        late = "first_response" if ticket["first_responded_at"] is None and ticket["first_response_due_at"] < now \
            else "resolution"
        await _record(session, ticket, now, "tickets", "overdue", values={"overdue_at": now},
                      details={"deadline": late, "notified": ticket["assignee"] or ticket["team"]})
        head = policy.team_heads.get(ticket["team"])
        if head and ticket["escalation"] is None:
            await escalate(session, ticket, Escalation.TEAM_HEAD, head, actor_name="tickets",
                           note=f"Просрочен срок ({late})", now=now)
    return [t["number"] for t in rows]


async def assign(session: AsyncSession, ticket: Mapping[str, Any], *, team: str, assignee: str | None, reason: str,
                 now: datetime, by: str = "router") -> bool:
    """The ticket's assignee and team change (False: finished, or already so): the router gave its contact to
    an agent, or an agent (``by``) took, handed over or transferred it, which the router hears to move the load."""
    if TicketStatus(ticket["status"]) in lifecycle.FINAL or (ticket["assignee"], ticket["team"]) == (assignee, team):
        return False
    history_id = await _record(session, ticket, now, by, "assigned",
                               values={"assignee": assignee, "team": team, "updated_at": now},
                               details={"from": ticket["assignee"], "to": assignee, "team": team, "reason": reason})
    if by != "router":
        await _stage(session, now, ticket_assigned(ticket, history_id, team=team, assignee=assignee, by=by))
    return True


async def set_type_fields(session: AsyncSession, ticket: Mapping[str, Any], values: Mapping[str, Any], *,
                          actor_name: str, now: datetime) -> list[str]:
    """Replace the ticket's type fields with ``values`` (already validated by ``type_fields``); the names of
    the fields that changed, each old and new value in the history line."""
    old = ticket["type_fields"] or {}
    changed = sorted(k for k in set(old) | set(values) if old.get(k) != values.get(k))
    if changed:
        await _record(session, ticket, now, actor_name, "fields_changed",
                      values={"type_fields": dict(values) or None, "updated_at": now},
                      details={k: {"from": old.get(k), "to": values.get(k)} for k in changed})
    return changed


async def correct_type(session: AsyncSession, ticket: Mapping[str, Any], correction: type_correction.Correction,
                       *, actor_name: str, policy: Policy, now: datetime) -> TicketTypeCorrected:
    """Change the ticket's type (``ticket`` read for update) as :func:`type_correction.plan` decides, and
    stage the correction for the router to learn from; ``IllegalTransition`` when it cannot change."""
    retype = type_correction.plan(ticket, correction, policy=policy, now=now)
    moved = retype.new_status != retype.old_status
    history_id = await _record(session, ticket, now, actor_name, "type_changed", values=retype.values,
                               details=retype.details, from_status=retype.old_status.value,
                               to_status=retype.new_status.value if moved else None)
    if retype.dropped:
        await _record(session, ticket, now, actor_name, "fields_dropped", details={
            "fields": retype.dropped,
            "note": f"Полей нет у типа {retype.new_type.value}: " + ", ".join(sorted(retype.dropped))})
    text = await store.first_message_body(session, ticket["seq"], ticket["contact_id"])
    key = f"{ticket['number']}:{history_id}"
    corrected = TicketTypeCorrected(
        correlation_id=ticket["contact_id"], channel=ticket["channel"], idempotency_key=key,
        number=ticket["number"], contact_id=ticket["contact_id"], old_type=retype.old_type,
        new_type=retype.new_type, corrected_by=actor_name[:500], subject=(ticket["subject"] or "")[:500] or None,
        text=(text or "")[:TRAINING_TEXT_CHARS])
    await _stage(session, now, corrected)
    if moved:
        await _stage(session, now, TicketStatusChanged(
            correlation_id=ticket["contact_id"], channel=ticket["channel"], idempotency_key=key,
            number=ticket["number"], old_status=retype.old_status, new_status=retype.new_status,
            changed_by=actor_name[:500]))
    return corrected


# -- what we send the customer, and what became of it ------------------------------------------------------


async def _send_to_customer(session: AsyncSession, ticket: Mapping[str, Any], *, body: str, kind: str,
                            author: str | None, policy: Policy, now: datetime, key: str | None = None,
                            attachments: Sequence[AttachmentRef] = (), survey: bool = False,
                            latest: Mapping[str, Mapping[str, Any]] | None = None) -> Sent | None:
    """Put a reply or notice on the thread and stage it where :mod:`.reply_paths` says it reaches the customer;
    None when nothing can (not recorded then; a phone only makes a reply a call-back, a notice unsent). A notice
    kept from addresses identity flagged dead flags the ticket, so the agent knows the customer was not told."""
    path = await reply_path(session, ticket, policy.outbound_channels, policy.reply_fallback, latest)
    if path is None or (path.call_back and kind != "reply"):
        if kind == "notice" and (dead := await dead_addresses(session, ticket)):
            await _record(session, ticket, now, "tickets", "not_notified", values={"delivery_failed_at": now},
                          details={"undeliverable": dead, "note": "Клиент не уведомлён: адрес не доставляется"})
        return None
    reply = notifications.outbound(ticket, path.recipient, channel=path.channel, reply_id=uuid.uuid4(), body=body,
                                   in_reply_to=path.in_reply_to, attachments=attachments,
                                   automatic=kind == "notice", survey=survey)
    message_id = await store.insert_outbound_message(
        session, ticket["seq"], channel=path.channel, author_name=author, subject=reply.subject, body=body,
        created_at=now, thread_key=path.recipient.external_thread_id, reply_id=reply.reply_id, kind=kind,
        delivery_status="call_back" if path.call_back else "queued", reply_key=key)
    await store.insert_attachments(session, message_id, attachments)
    if not path.call_back:
        await _stage(session, now, reply)
        return Sent(reply.reply_id, path.channel)
    activity = await schedule_activity(
        session, ticket, kind=ActivityKind.CALL_BACK, title=f"Перезвонить {path.recipient.phone}: передать ответ",
        owner=author or ticket["assignee"] or ticket["team"], due_at=now + policy.call_back_within,
        actor=author or "tickets", now=now)
    return Sent(reply.reply_id, path.channel, activity)


async def reply(session: AsyncSession, ticket: Mapping[str, Any], body: str, *, author: str, policy: Policy,
                now: datetime, attachments: Sequence[AttachmentRef] = (), key: str | None = None) -> Sent | None:
    """An agent's answer to the customer (``key``: see :mod:`.reply_keys`); the first stops the first-response clock."""
    sent = await _send_to_customer(session, ticket, body=body, kind="reply", author=author, policy=policy,
                                   now=now, attachments=attachments, key=key)
    if sent is None:
        return None
    values: dict[str, Any] = {"updated_at": now}
    if ticket["first_responded_at"] is None:
        values["first_responded_at"] = now
    await _record(session, ticket, now, author, "reply", values=values,
                  details={"reply_id": str(sent.reply_id), "channel": sent.channel})
    return sent


async def record_delivery(session: AsyncSession, message: Mapping[str, Any], event: DeliveryReported,
                          now: datetime) -> None:
    """What the channel adapter did with a reply, on the reply's message; a late ``retrying`` does not
    overwrite a final ``delivered`` or ``failed``. A failure flags the ticket, a later delivery clears it."""
    if message["delivery_status"] in ("delivered", "failed") and event.status == "retrying":
        return
    values: dict[str, Any] = {"delivery_status": event.status.value, "delivery_detail": event.detail}
    if event.external_message_id:
        values["external_message_id"] = event.external_message_id
    await store.update_message(session, message["id"], **values)
    if event.status == "delivered":
        await store.clear_delivery_failure(session, message["ticket_seq"], message["created_at"])
    if event.status == "failed":
        await _record(session, {"seq": message["ticket_seq"]}, now, event.channel, "delivery_failed",
                      values={"delivery_failed_at": now},
                      details={"reply_id": str(event.reply_id), "detail": event.detail})


# -- activities and ratings --------------------------------------------------------------------------------


async def schedule_activity(session: AsyncSession, ticket: Mapping[str, Any], *, kind: ActivityKind, title: str,
                            owner: str, due_at: datetime, actor: str, now: datetime) -> uuid.UUID:
    """A call-back, meeting, document or task on the ticket, in its owner's list and the ticket's history."""
    activity_id = await store.insert_activity(session, ticket_seq=ticket["seq"], kind=kind.value, title=title,
                                              owner=owner, due_at=due_at, created_by=actor, created_at=now,
                                              updated_at=now)
    await _record(session, ticket, now, actor, "activity_scheduled",
                  details={"activity": str(activity_id), "kind": kind.value, "title": title, "owner": owner,
                           "due_at": due_at.isoformat()})
    return activity_id


async def change_activity(session: AsyncSession, activity: Mapping[str, Any], *, due_at: datetime | None,
                          owner: str | None, done: bool | None, actor: str, now: datetime) -> None:
    """Reschedule, hand over, finish or reopen; only what is given changes, and each change is in history."""
    planned = edit(activity, due_at=due_at, owner=owner, done=done, now=now)
    if planned is None:
        return
    await store.update_activity(session, activity["id"], **planned.values, updated_at=now)
    await _record(session, {"seq": activity["ticket_seq"]}, now, actor, planned.action, details=planned.details)


async def rate(session: AsyncSession, ticket: Mapping[str, Any], rating: int, comment: str | None, *,
               channel: str, actor: str, now: datetime) -> bool:
    """Record the ticket's rating; False when it already has one (the first answer stands)."""
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    if await store.rating_of(session, ticket["seq"]) is not None:
        return False
    await store.insert_rating(session, ticket["seq"], rating=rating, comment=comment, channel=channel, rated_at=now)
    await _record(session, ticket, now, actor, "rated",
                  details={"rating": rating, "channel": channel} | ({"comment": comment} if comment else {}))
    return True
