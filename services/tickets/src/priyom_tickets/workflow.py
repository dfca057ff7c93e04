"""The changes a ticket goes through, each in the caller's transaction: a lifecycle move, a message from the
customer, a reply to them. Each writes its audit line and stages what the bus must hear (outbox.py), so the
API, the contact consumer and the scheduler change tickets in exactly one way.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import (
    AttachmentRef,
    ContactRouted,
    ContactType,
    OutboundReply,
    TicketStatus,
    TicketStatusChanged,
)

from . import lifecycle, notifications, outbox, store
from .decisions import decision_title
from .lifecycle import Actor
from .sla import SlaPolicy


@dataclass(frozen=True)
class Policy:
    """What the workflow needs to know about the deployment (from settings, through app.py)."""

    zone: ZoneInfo
    #: Channels a service delivers replies on; customers on other channels get no notices.
    outbound_channels: frozenset[str]
    #: Deadlines by business hours per SLA tier and type; None leaves the router's deadlines as they are.
    sla: SlaPolicy | None = None
    #: Who heads each team: an overdue ticket is escalated to them.
    team_heads: Mapping[str, str] = field(default_factory=dict)
    #: How long after closing a customer's "1".."5" on the same conversation is taken as the survey's answer.
    survey_window: timedelta = timedelta(days=14)


@dataclass(frozen=True)
class Change:
    """A requested lifecycle move with what the agent recorded about it."""

    action: str
    decision: str | None = None
    decision_text: str | None = None
    result: str | None = None
    note: str | None = None


async def transition(session: AsyncSession, ticket: Mapping[str, Any], change: Change, *, actor: Actor,
                     actor_name: str, policy: Policy, now: datetime) -> TicketStatusChanged:
    """Make the move if the ticket type's state machine allows it; raises ``IllegalTransition`` otherwise."""
    move = lifecycle.plan(ContactType(ticket["type"]), TicketStatus(ticket["status"]), change.action,
                          actor=actor, has_decision=change.decision is not None)
    values: dict[str, Any] = {"status": move.target.value, "status_changed_at": now, "updated_at": now}
    if change.decision is not None:
        values |= {"decision": change.decision, "decision_text": change.decision_text}
    if change.result is not None:
        values["result"] = change.result
    if move.target in (TicketStatus.RESOLVED, TicketStatus.AWAITING_CONFIRMATION, TicketStatus.REJECTED):
        values["resolved_at"] = now
    if move.target in lifecycle.FINAL:
        values["closed_at"] = now
    await store.update_ticket(session, ticket["seq"], **values)
    details = {k: v for k, v in (("decision", change.decision), ("decision_text", change.decision_text),
                                 ("result", change.result), ("note", change.note), ("by", actor.value)) if v}
    history_id = await store.add_history(session, ticket["seq"], at=now, actor=actor_name, action=move.name,
                                         from_status=ticket["status"], to_status=move.target.value,
                                         details=details)
    changed = TicketStatusChanged(
        correlation_id=ticket["contact_id"], channel=ticket["channel"],
        idempotency_key=f"{ticket['number']}:{history_id}", number=ticket["number"],
        old_status=TicketStatus(ticket["status"]), new_status=move.target, changed_by=actor_name[:500])
    await outbox.stage(session, changed)
    decision = decision_title(change.decision) if change.decision else None
    body = notifications.status_text(ticket["number"], move.target.value, decision, change.decision_text)
    await send_to_customer(session, {**ticket, **values}, body=body, kind="notice", author=None,
                           policy=policy, now=now, survey=move.target == TicketStatus.CLOSED)
    return changed


async def send_to_customer(session: AsyncSession, ticket: Mapping[str, Any], *, body: str, kind: str,
                           author: str | None, policy: Policy, now: datetime,
                           attachments: Sequence[AttachmentRef] = (), survey: bool = False
                           ) -> OutboundReply | None:
    """Put a reply or notice on the thread and stage it for the channel; None when the channel cannot deliver
    or the customer left no address on it (the message is then not recorded either)."""
    if ticket["channel"] not in policy.outbound_channels:
        return None
    last = await store.latest_inbound(session, ticket["seq"], ticket["channel"])
    if last is None:
        return None
    reply_id = uuid.uuid4()
    reply = notifications.outbound(ticket, notifications.recipient_of(last), reply_id=reply_id, body=body,
                                   in_reply_to=last["external_message_id"], attachments=attachments,
                                   automatic=kind == "notice", survey=survey)
    message_id = uuid.uuid4()
    await session.execute(store.ticket_messages.insert().values(
        id=message_id, ticket_seq=ticket["seq"], direction="outbound", channel=ticket["channel"],
        author_name=author, subject=reply.subject, body=body, created_at=now, thread_key=last["thread_key"],
        reply_id=reply_id, kind=kind, delivery_status="queued"))
    if attachments:
        await session.execute(store.ticket_attachments.insert(), [
            {"id": uuid.uuid4(), "message_id": message_id, "blob_key": a.blob_key, "filename": a.filename,
             "content_type": a.content_type, "size": a.size} for a in attachments])
    await outbox.stage(session, reply)
    return reply


async def reply(session: AsyncSession, ticket: Mapping[str, Any], body: str, *, author: str, policy: Policy,
                now: datetime, attachments: Sequence[AttachmentRef] = ()) -> OutboundReply | None:
    """An agent's answer to the customer; the first one stops the first-response clock."""
    sent = await send_to_customer(session, ticket, body=body, kind="reply", author=author, policy=policy,
                                  now=now, attachments=attachments)
    if sent is None:
        return None
    values: dict[str, Any] = {"updated_at": now}
    if ticket["first_responded_at"] is None:
        values["first_responded_at"] = now
    await store.update_ticket(session, ticket["seq"], **values)
    await store.add_history(session, ticket["seq"], at=now, actor=author, action="reply",
                            details={"reply_id": str(sent.reply_id)})
    return sent


async def register(session: AsyncSession, event: ContactRouted, *, policy: Policy, now: datetime) -> RowMapping:
    """A new ticket from a contact, its first history line and the registration notice."""
    routing = event.routing
    due = policy.sla.due(event.client.sla_tier, routing.type.value, now) if policy.sla else None
    ticket = await store.insert_ticket(session, event, now, now.astimezone(policy.zone).year, due)
    details: dict[str, Any] = {"team": routing.team, "assignee": routing.assignee, "reason": routing.reason,
                               "sla": "business hours" if due else "router"}
    if due:
        details["router_resolution_due_at"] = routing.resolution_due_at.isoformat()
    await store.add_history(session, ticket["seq"], at=now, actor="tickets", action="registered",
                            to_status=TicketStatus.NEW.value, details=details)
    body = notifications.registration_text(ticket["number"], ticket["resolution_due_at"], policy.zone)
    await send_to_customer(session, ticket, body=body, kind="notice", author=None, policy=policy, now=now)
    return ticket


async def append_followup(session: AsyncSession, ticket: Mapping[str, Any], event: ContactRouted, *,
                          policy: Policy, now: datetime) -> TicketStatusChanged | None:
    """A further contact from the customer on an open ticket: one more message, and the move it implies
    (a customer who answers a ticket waiting for them puts it back in work)."""
    await store.insert_inbound_message(session, ticket["seq"], event)
    await store.update_ticket(session, ticket["seq"], updated_at=now)
    await store.add_history(session, ticket["seq"], at=now, actor="customer", action="customer_message",
                            details={"channel": event.channel, "contact_id": str(event.contact.contact_id)})
    follow = lifecycle.ON_CUSTOMER_MESSAGE.get(TicketStatus(ticket["status"]))
    if follow is None:
        return None
    return await transition(session, ticket, Change(follow), actor=Actor.CUSTOMER, actor_name="customer",
                            policy=policy, now=now)


async def close_silent(session: AsyncSession, *, silence: timedelta, policy: Policy, now: datetime,
                       limit: int = 100) -> list[str]:
    """Close tickets that have waited for the customer's word longer than ``silence``; their numbers."""
    rows = (await session.execute(
        select(store.tickets)
        .where(store.tickets.c.status.in_([s.value for s in lifecycle.SILENCE_CLOSES]),
               store.tickets.c.status_changed_at < now - silence)
        .order_by(store.tickets.c.seq).limit(limit).with_for_update(skip_locked=True))).mappings().all()
    for ticket in rows:
        note = f"Закрыто автоматически: нет ответа {silence.days} дн."
        await transition(session, ticket, Change("close", note=note), actor=Actor.SYSTEM, actor_name="tickets",
                         policy=policy, now=now)
    return [t["number"] for t in rows]


class Escalation(StrEnum):
    """Where a ticket can be escalated to; each is recorded on the ticket and in its history."""

    TEAM_HEAD = "team_head"
    SECOND_LINE = "second_line"
    VENDOR = "vendor"


async def escalate(session: AsyncSession, ticket: Mapping[str, Any], level: Escalation, to: str, *,
                   actor_name: str, note: str | None, now: datetime) -> None:
    """Record an escalation (who took it over, and why) on the ticket and in its history."""
    await store.update_ticket(session, ticket["seq"], escalation=level.value, escalated_to=to, escalated_at=now,
                              updated_at=now)
    details = {"level": level.value, "to": to} | ({"note": note} if note else {})
    await store.add_history(session, ticket["seq"], at=now, actor=actor_name, action="escalated",
                            details=details)


async def mark_overdue(session: AsyncSession, *, policy: Policy, now: datetime, limit: int = 500) -> list[str]:
    """Find tickets that went late since the last round: mark them, tell the assignee (a history line the
    console shows and the agent's list sorts by), and escalate to the team head. Their numbers."""
    rows = (await session.execute(
        select(store.tickets).where(store.overdue(now), store.tickets.c.overdue_at.is_(None))
        .order_by(store.tickets.c.seq).limit(limit).with_for_update(skip_locked=True))).mappings().all()
    for ticket in rows:
        await store.update_ticket(session, ticket["seq"], overdue_at=now)
        late = "first_response" if ticket["first_responded_at"] is None and ticket["first_response_due_at"] < now \
            else "resolution"
        await store.add_history(session, ticket["seq"], at=now, actor="tickets", action="overdue",
                                details={"deadline": late, "notified": ticket["assignee"] or ticket["team"]})
        head = policy.team_heads.get(ticket["team"])
        if head and ticket["escalation"] is None:
            await escalate(session, ticket, Escalation.TEAM_HEAD, head, actor_name="tickets",
                           note=f"Просрочен срок ({late})", now=now)
    return [t["number"] for t in rows]


async def set_type_fields(session: AsyncSession, ticket: Mapping[str, Any], values: Mapping[str, Any], *,
                          actor_name: str, now: datetime) -> list[str]:
    """Replace the ticket's type fields with ``values`` (already validated by ``type_fields``); the names of
    the fields that changed, each old and new value in the history line."""
    old = ticket["type_fields"] or {}
    changed = sorted(k for k in set(old) | set(values) if old.get(k) != values.get(k))
    if not changed:
        return []
    await store.update_ticket(session, ticket["seq"], type_fields=dict(values) or None, updated_at=now)
    await store.add_history(session, ticket["seq"], at=now, actor=actor_name, action="fields_changed",
                            details={k: {"from": old.get(k), "to": values.get(k)} for k in changed})
    return changed
