"""Pure routing logic: classify a contact, pick its assignee, compute its deadlines. No I/O here."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache

from priyom_contracts import ClientMatch, Contact, ContactType, Routing, Urgency

from .rules import KeywordRule, RuleSet


@cache
def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    # A keyword must start a word ("цена" matches "ценах", not "оценка"); case-insensitive, Unicode-aware.
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(k.lower()) for k in keywords) + ")", re.IGNORECASE)


def _matches(text: str, keywords: list[str]) -> bool:
    return bool(keywords) and _pattern(tuple(keywords)).search(text) is not None


def classify(contact: Contact, rules: RuleSet) -> tuple[ContactType, str, Urgency, str]:
    """Type, category, urgency and the name of the rule that decided."""
    text = f"{contact.subject or ''}\n{contact.body}".lower()
    urgency = Urgency.HIGH if _matches(text, rules.urgent_keywords) else Urgency.NORMAL
    rule: KeywordRule | None = next((r for r in rules.classify if _matches(text, r.keywords)), None)
    if rule is None:
        return rules.default_type, rules.default_category, urgency, "default"
    return rule.type, rule.category, urgency, rule.name


def route(contact: Contact, client: ClientMatch, rules: RuleSet) -> Routing:
    """The full decision. Deadlines count from when the contact was received, so a redelivery or a replay
    computes the same deadlines as the first delivery did."""
    contact_type, category, urgency, rule_name = classify(contact, rules)
    team = rules.teams.get(contact_type, rules.teams[rules.default_type])
    if contact_type is ContactType.PURCHASE_INTEREST:
        assignee, reason = None, f"purchase interest goes to sales ({rule_name})"
    elif client.account_manager:
        assignee, reason = client.account_manager, f"the client's account manager ({rule_name})"
    else:
        assignee, reason = None, f"team queue {team} ({rule_name})"
    tier = rules.sla.get(client.sla_tier) or rules.sla["standard"]
    target = tier[urgency]
    received: datetime = contact.received_at
    return Routing(
        type=contact_type,
        category=category,
        urgency=urgency,
        team=team,
        assignee=assignee,
        reason=reason,
        first_response_due_at=received + timedelta(minutes=target.first_response_minutes),
        resolution_due_at=received + timedelta(minutes=target.resolution_minutes),
    )
