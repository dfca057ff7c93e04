"""What the customer is told, and where: the texts of the notices and the reply envelope. Pure.

Notices go only to channels that can deliver (a channel service consumes ``reply.outbound.v1.<channel>``);
the web form has no way back, and a publish no queue would take is refused by the broker, so asking first
keeps a registration from failing over a notice nobody could deliver.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from priyom_contracts import AttachmentRef, OutboundReply, Recipient, TicketStatus, Topology

STATUS_TITLES: Mapping[str, str] = {
    TicketStatus.NEW: "зарегистрировано",
    TicketStatus.ACCEPTED: "принято",
    TicketStatus.OPEN: "в работе",
    TicketStatus.PENDING: "ожидает вашего ответа",
    TicketStatus.RESOLVED: "решено",
    TicketStatus.CLOSED: "закрыто",
    TicketStatus.CANCELLED: "отменено",
    TicketStatus.REVIEW: "на рассмотрении",
    TicketStatus.NEEDS_INFO: "нужны дополнительные данные",
    TicketStatus.REJECTED: "отклонено",
    TicketStatus.INVESTIGATION: "принято к расследованию",
    TicketStatus.ACTION_PLAN: "выполняется план мероприятий",
    TicketStatus.AWAITING_CONFIRMATION: "ожидает вашего подтверждения",
}


def outbound_channels(topology: Topology) -> frozenset[str]:
    """Channels some service delivers replies on: those with a queue bound to ``reply.outbound.v1.<ch>``."""
    head = OutboundReply.type_name() + "."
    return frozenset(pattern[len(head):] for spec in topology.queues.values() for pattern in spec.bindings
                     if pattern.startswith(head) and "*" not in pattern and "#" not in pattern)


def recipient_of(message: Mapping[str, Any]) -> Recipient:
    """Where to answer a customer's message: the address it came from and the conversation it is part of."""
    sender = message.get("sender") or {}
    return Recipient(email=sender.get("email"), phone=sender.get("phone"), messenger=sender.get("messenger"),
                     external_thread_id=message.get("thread_key"))


def subject_line(subject: str | None) -> str:
    """The ticket's subject, or a neutral one. Plain: the channel adds the ticket number in its own form (e-mail
    writes ``[#2026-000123]``, which its parser reads back); two services each adding it doubled it."""
    return subject or "Ваше обращение"


def registration_text(number: str, resolution_due_at: datetime, zone: ZoneInfo) -> str:
    due = resolution_due_at.astimezone(zone).strftime("%d.%m.%Y %H:%M")
    return (f"Ваше обращение зарегистрировано под номером {number}. Срок решения: до {due}. "
            f"Указывайте номер {number}, если будете писать нам по этому вопросу.")


def status_text(number: str, status: str, decision: str | None, note: str | None) -> str:
    parts = [f"Статус обращения {number}: {STATUS_TITLES.get(status, status)}."]
    if decision:
        parts.append(f"Решение: {decision}.")
    if note:
        parts.append(note)
    if status == TicketStatus.CLOSED:
        parts.append("Оцените, пожалуйста, нашу работу по шкале от 1 до 5 и напишите комментарий, если хотите.")
    return " ".join(parts)


def outbound(ticket: Mapping[str, Any], recipient: Recipient, *, reply_id: uuid.UUID, body: str,
             channel: str | None = None, in_reply_to: str | None = None, attachments: Sequence[AttachmentRef] = (),
             automatic: bool = False, survey: bool = False) -> OutboundReply:
    """The bus envelope of anything sent to the customer, on ``channel`` (default: the ticket's own; another one
    when the customer is answered where their card reaches them). ``automatic`` marks a notice (so
    auto-responders leave it alone), ``survey`` the closing one (channels with buttons offer 1 to 5)."""
    return OutboundReply(
        correlation_id=ticket["contact_id"], channel=channel or ticket["channel"], idempotency_key=str(reply_id),
        ticket_number=ticket["number"], reply_id=reply_id, recipient=recipient,
        subject=subject_line(ticket["subject"]), body=body, in_reply_to=in_reply_to,
        references=[in_reply_to] if in_reply_to else [], attachments=list(attachments), automatic=automatic,
        survey=survey)
