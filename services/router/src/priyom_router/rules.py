"""The rule set: pure data a supervisor can read and replace, with the built-in default below.

Classification is keyword rules in order (first match wins), because a supervisor must be able to say why a
contact went where it went; the reason travels with the routing decision.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from priyom_contracts import ContactType, Urgency


class KeywordRule(BaseModel):
    """If any keyword starts a word in the subject or body, the contact is of ``type`` and ``category``."""

    name: str
    type: ContactType
    category: str
    keywords: list[str] = Field(min_length=1)


class SlaTarget(BaseModel):
    first_response_minutes: int = Field(gt=0)
    resolution_minutes: int = Field(gt=0)


class RuleSet(BaseModel):
    classify: list[KeywordRule]
    default_type: ContactType = ContactType.INFORMATION_REQUEST
    default_category: str = "general"
    urgent_keywords: list[str] = Field(default_factory=list)
    teams: dict[ContactType, str]
    #: SLA by tier, then urgency. A tier missing here falls back to ``standard``.
    sla: dict[str, dict[Urgency, SlaTarget]]

    @classmethod
    def load(cls, path: Path | None) -> RuleSet:
        """The rules in ``path``, or the built-in default when no file is configured."""
        if path is None:
            return DEFAULT_RULES
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))


def _sla(first: int, resolve: int) -> SlaTarget:
    return SlaTarget(first_response_minutes=first, resolution_minutes=resolve)


DEFAULT_RULES = RuleSet(
    classify=[
        KeywordRule(
            name="complaint-words",
            type=ContactType.COMPLAINT,
            category="quality",
            keywords=["жалоб", "претензи", "недовол", "возмущ", "безобраз", "complain", "unacceptable",
                      "disappointed", "refund", "возврат"],
        ),
        KeywordRule(
            name="service-words",
            type=ContactType.SERVICE_REQUEST,
            category="service",
            keywords=["не работает", "сломал", "неисправ", "ошибк", "ремонт", "заявк", "договор",
                      "не могу войти", "broken", "not working", "error", "outage", "repair", "contract"],
        ),
        KeywordRule(
            name="purchase-words",
            type=ContactType.PURCHASE_INTEREST,
            category="sales",
            keywords=["купить", "покупк", "цена", "стоимост", "прайс", "коммерческ", "счёт на оплату",
                      "счет на оплату", "заказ", "buy", "purchase", "price", "quote", "pricing", "order"],
        ),
    ],
    urgent_keywords=["срочно", "авария", "немедленно", "urgent", "asap", "emergency", "critical"],
    teams={
        ContactType.COMPLAINT: "quality",
        ContactType.SERVICE_REQUEST: "service",
        ContactType.PURCHASE_INTEREST: "sales",
        ContactType.INFORMATION_REQUEST: "support",
    },
    sla={
        "standard": {
            Urgency.LOW: _sla(480, 5 * 1440),
            Urgency.NORMAL: _sla(240, 3 * 1440),
            Urgency.HIGH: _sla(60, 1440),
            Urgency.CRITICAL: _sla(15, 240),
        },
        "premium": {
            Urgency.LOW: _sla(120, 2 * 1440),
            Urgency.NORMAL: _sla(60, 1440),
            Urgency.HIGH: _sla(15, 480),
            Urgency.CRITICAL: _sla(5, 120),
        },
    },
)
