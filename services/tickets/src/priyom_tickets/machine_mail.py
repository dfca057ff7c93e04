"""Where a machine-written contact that answers no ticket is kept: the day's "machine mail" ticket. Pure.

An out-of-office reply, a bounce of mail we never sent or a list message that names no ticket of ours must not
open a ticket (helpdesks that do end up in reply loops, freescout#3670), yet dropping it would lose a contact a
channel accepted. So it goes on one ticket per day that collects such mail: created closed (it is in no queue
and gets no notice), found by its key, and searchable like any other, each mail a message with its
classification (auto_reply, bounce, report, list).
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from uuid import UUID

from priyom_contracts import Contact, ContactRouted, Sender, contact_id_for

#: The collector's channel: no adapter delivers on it, so nothing is ever sent from that ticket.
CHANNEL = "machine-mail"
TITLE = "Автоматические письма без обращения"


def collector_key(day: date) -> str:
    return f"machine-mail:{day.isoformat()}"


def collector_id(day: date) -> UUID:
    """The contact id of the day's collector (its ticket's ``contact_id``)."""
    return contact_id_for(collector_key(day))


def collector_event(event: ContactRouted, day: date, zone: tzinfo) -> ContactRouted:
    """The contact that opens the day's collector: a description of what the ticket holds, dated at the day's
    start so the day's mail follows it in the thread. Derived from the day alone: every process makes the same."""
    key, contact_id = collector_key(day), collector_id(day)
    described = Contact(
        contact_id=contact_id, received_at=datetime.combine(day, time.min, zone), sender=Sender(name="Priyom"),
        subject=f"{TITLE} за {day.strftime('%d.%m.%Y')}",
        body="Автоответы, отчёты о недоставке и рассылки этого дня, не относящиеся ни к одному обращению. "
             "Ни одно из них не открыло обращение и не получило ответа.")
    return event.model_copy(update={"correlation_id": contact_id, "channel": CHANNEL, "idempotency_key": key,
                                    "contact": described})
