"""Routing decisions on realistic contacts, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from priyom_contracts import ClientMatch, Contact, ContactType, MatchKind, Sender, Urgency
from priyom_router.routing import classify, route
from priyom_router.rules import DEFAULT_RULES, RuleSet

RECEIVED = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def contact(body: str, subject: str | None = None) -> Contact:
    return Contact(contact_id=uuid.uuid4(), received_at=RECEIVED, sender=Sender(email="a@example.ru"),
                   subject=subject, body=body)


def client(manager: str | None = None, tier: str = "standard") -> ClientMatch:
    return ClientMatch(client_id=uuid.uuid4(), first_contact=manager is None, match=MatchKind.EXACT_EMAIL,
                       account_manager=manager, sla_tier=tier)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("У меня претензия к качеству обслуживания", ContactType.COMPLAINT),
        ("Пишу жалобу на вашего курьера", ContactType.COMPLAINT),
        ("Кассовый аппарат не работает после обновления", ContactType.SERVICE_REQUEST),
        ("Хотим купить ещё три лицензии, пришлите цены", ContactType.PURCHASE_INTEREST),
        ("Подскажите, до скольки вы работаете в субботу?", ContactType.INFORMATION_REQUEST),
        ("Please send a quote for 20 seats", ContactType.PURCHASE_INTEREST),
    ],
)
def test_classifies_by_keywords(text: str, expected: ContactType) -> None:
    assert classify(contact(text), DEFAULT_RULES)[0] is expected


def test_keyword_must_start_a_word() -> None:
    # "оценка" contains "цен" inside the word but is not about prices.
    assert classify(contact("Спасибо за высокую оценку"), DEFAULT_RULES)[0] is ContactType.INFORMATION_REQUEST


def test_urgency_from_words() -> None:
    assert classify(contact("СРОЧНО: сервер упал"), DEFAULT_RULES)[2] is Urgency.HIGH
    assert classify(contact("Когда будет счёт?"), DEFAULT_RULES)[2] is Urgency.NORMAL


def test_account_manager_takes_own_client() -> None:
    routing = route(contact("Не работает выгрузка"), client(manager="Иванова"), DEFAULT_RULES)
    assert routing.assignee == "Иванова"
    assert routing.team == "service"
    assert "account manager" in routing.reason


def test_purchase_interest_goes_to_sales_even_with_manager() -> None:
    routing = route(contact("Хотим купить"), client(manager="Иванова"), DEFAULT_RULES)
    assert routing.team == "sales"
    assert routing.assignee is None


def test_deadlines_count_from_reception_and_tier() -> None:
    standard = route(contact("Вопрос"), client(), DEFAULT_RULES)
    premium = route(contact("Вопрос"), client(tier="premium"), DEFAULT_RULES)
    assert standard.first_response_due_at == RECEIVED + timedelta(minutes=240)
    assert premium.first_response_due_at == RECEIVED + timedelta(minutes=60)
    unknown_tier = route(contact("Вопрос"), client(tier="gold"), DEFAULT_RULES)
    assert unknown_tier.first_response_due_at == standard.first_response_due_at


def test_rules_load_from_file(tmp_path) -> None:
    data = DEFAULT_RULES.model_dump(mode="json")
    data["teams"]["information_request"] = "front-desk"
    path = tmp_path / "rules.json"
    import json

    path.write_text(json.dumps(data), encoding="utf-8")
    rules = RuleSet.load(path)
    assert route(contact("Вопрос"), client(), rules).team == "front-desk"
