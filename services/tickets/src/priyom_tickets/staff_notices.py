"""Escalation mail to staff: whoever an escalation reaches is told by e-mail too, besides their console.

An agent at the phone, in a meeting or off shift does not watch a console; an escalation is what must not wait.
The mail goes to the address on the recipient's staff account (``staff.email``; none: the console only), in
the language they chose for the console, as a :class:`~priyom_contracts.StaffNotice` that
:func:`~priyom_tickets.changes.escalate` stages in the outbox with the escalation itself, so it goes out if and
only if the escalation was committed. intake-email delivers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import StaffNotice

from . import staff as accounts
from .lifecycle import Escalation

#: Subject and body per console language; Russian where the recipient never chose.
TEXTS: Mapping[str, tuple[str, str]] = {
    "ru": ("Обращение {number} эскалировано вам",
           "{by} эскалировал(а) обращение {number} ({level}): {subject}.{note}\n\nОткройте его в консоли."),
    "en": ("Ticket {number} is escalated to you",
           "{by} escalated ticket {number} ({level}): {subject}.{note}\n\nOpen it in the console."),
}
LEVELS: Mapping[str, Mapping[Escalation, str]] = {
    "ru": {Escalation.TEAM_HEAD: "руководителю группы", Escalation.SECOND_LINE: "на вторую линию",
           Escalation.VENDOR: "внешнему подрядчику"},
    "en": {Escalation.TEAM_HEAD: "to the team head", Escalation.SECOND_LINE: "to the second line",
           Escalation.VENDOR: "to a vendor"},
}


def escalation_notice(ticket: Mapping[str, Any], *, email: str, locale: str | None, level: Escalation, by: str,
                      note: str | None, now: datetime, recipient: str) -> StaffNotice:
    language = locale if locale in TEXTS else "ru"
    subject, body = TEXTS[language]
    values = {"number": ticket["number"], "by": by, "level": LEVELS[language][level],
              "subject": ticket["subject"] or "—", "note": f"\n\n{note}" if note else ""}
    return StaffNotice(correlation_id=ticket["contact_id"], channel="email",
                       idempotency_key=f"escalation:{ticket['number']}:{now.isoformat()}:{recipient}"[:512],
                       email=email, subject=subject.format(**values)[:200], body=body.format(**values)[:4000],
                       ticket_number=ticket["number"])


async def escalation_notices(session: AsyncSession, ticket: Mapping[str, Any], recipients: Iterable[str | None],
                             *, level: Escalation, by: str, note: str | None, now: datetime) -> list[StaffNotice]:
    """A mail to each recipient with an address (never to the one who escalated)."""
    notices = []
    for name in dict.fromkeys(r for r in recipients if r and r != by):
        mail = await accounts.mail_of(session, name)
        if mail is not None:
            notices.append(escalation_notice(ticket, email=mail[0], locale=mail[1], level=level, by=by, note=note,
                                             now=now, recipient=name))
    return notices
