"""The decisions dictionary: the reasons a team records when it resolves, rejects, cancels or takes a ticket on.

A fixed list keeps reports countable ("how many refusals for deadlines this quarter"); the free text beside
the code says what the list cannot. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping

DECISIONS: Mapping[str, str] = {
    "in_work": "В работу",
    "reject_deadline": "Отказ — не проходим по срокам",
    "reject_not_warranty": "Отказ — не гарантийный случай",
    "reject_no_grounds": "Отказ — претензия не подтвердилась",
    "consulted": "Консультация дана",
    "fixed": "Неисправность устранена",
    "replaced": "Замена оборудования",
    "offer_sent": "Коммерческое предложение отправлено",
    "duplicate": "Дубль обращения",
    "withdrawn": "Отозвано клиентом",
}


def decision_title(code: str) -> str:
    """The human title of a decision code; KeyError for a code outside the dictionary."""
    return DECISIONS[code]
