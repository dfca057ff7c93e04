"""Classification: every rule condition, rule priority, urgency, the classifier's place. Without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from priyom_contracts import ClientMatch, ContactType, ServiceContract, Urgency
from priyom_router.contact_type import Classification, Facts, classify
from priyom_router.learned import Guess, built_in_model
from priyom_router.own_text import reading
from priyom_router.rules import RuleBook
from priyom_router.text_match import Text

from .books import book
from .conftest import WEDNESDAY_NOON, client


def facts(text: str, *, channel: str = "email", match: ClientMatch | None = None,
          at: datetime = WEDNESDAY_NOON, zone: RuleBook | None = None) -> Facts:
    local = at.astimezone(zone.zone) if zone else at
    return Facts(channel=channel, text=Text(text), client=match, local_time=local)


def decided(b: RuleBook, text: str, **kw) -> Classification:
    return classify(b, facts(text, zone=b, **kw))


ONE_RULE = """
- name: hit
  when: {cond}
  then: {{type: complaint, category: quality}}
"""


def rule(cond: str) -> RuleBook:
    return book(ONE_RULE.format(cond=cond))


def test_channel_condition() -> None:
    b = rule("{channel: [telephony, web]}")
    assert decided(b, "hello", channel="web").rule == "hit"
    assert decided(b, "hello", channel="email").rule == "default"


def test_any_keyword_condition_records_the_word_in_the_trail() -> None:
    b = rule("{keywords: [претензия, complaint]}")
    result = decided(b, "Направляем претензию по договору")
    assert result.rule == "hit" and result.type is ContactType.COMPLAINT
    assert "keyword «претензия»" in result.trail[0]
    assert decided(b, "A formal complaint").rule == "hit"
    assert decided(b, "Спасибо").rule == "default"


def test_all_and_not_keywords() -> None:
    b = rule("{all_keywords: [счет, ошибка], not_keywords: [спасибо]}")
    assert decided(b, "В счёте ошибка").rule == "hit"
    assert decided(b, "В счёте всё верно").rule == "default"
    assert decided(b, "Ошибку в счёте исправили, спасибо").rule == "default"


def test_regex_condition_is_case_insensitive() -> None:
    b = rule(r"{regex: ['договор\s*№\s*\d+', 'ORDER-\d{4}']}")
    assert decided(b, "по договору № 1234").rule == "default"  # the pattern wants «договор», not «договору»
    assert decided(b, "Договор №17 продлить").rule == "hit"
    assert decided(b, "about order-2026").rule == "hit"


def test_catastrophic_backtracking_pattern_answers_at_once() -> None:
    """The ReDoS attack: ``(a+)+$`` on a text of a's ending in «b» backtracks 2^n times in Python's ``re``
    (26 characters took 15 s; 5,000 would never end, and the pytest timeout fails this on a backtracking
    engine). Under RE2 it is one linear scan."""
    b = rule(r"{regex: ['(a+)+$', '(x|x)*y']}")
    assert decided(b, "a" * 5000 + "b").rule == "default"  # the «b» at the end: no match, after 2^5000 tries in re
    assert decided(b, "x" * 5000 + "z").rule == "default"
    assert decided(b, "ends in aaaa").rule == "hit"


def test_regex_case_folds_cyrillic() -> None:
    b = rule(r"{regex: ['претензи[яи]']}")
    assert decided(b, "ПРЕТЕНЗИЯ по счёту").rule == "hit"


def test_sla_tier_condition() -> None:
    b = rule("{sla_tier: [premium]}")
    assert decided(b, "x", match=client(tier="premium")).rule == "hit"
    assert decided(b, "x", match=client()).rule == "default"
    assert decided(b, "x", match=None).rule == "default"


def test_has_contract_checks_validity_on_the_day() -> None:
    b = rule("{has_contract: true}")
    current = ServiceContract(number="СО-17", valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31))
    expired = ServiceContract(number="СО-9", valid_from=date(2024, 1, 1), valid_to=date(2025, 12, 31))
    hit = decided(b, "x", match=client(contracts=(current,)))
    assert hit.rule == "hit" and "contract СО-17" in hit.trail[0]
    assert decided(b, "x", match=client(contracts=(expired,))).rule == "default"
    assert decided(b, "x", match=client()).rule == "default"
    assert decided(rule("{has_contract: false}"), "x", match=client(contracts=(expired,))).rule == "hit"


def test_service_request_records_the_contract_it_falls_under() -> None:
    b = book("""
- name: service
  when: {keywords: [сломался]}
  then: {type: service_request, category: service}
""")
    current = ServiceContract(number="СО-17", valid_to=date(2026, 12, 31))
    under = decided(b, "Сломалось", match=client(contracts=(current,)))
    assert under.type is ContactType.SERVICE_REQUEST and under.contract == "СО-17"
    without = decided(b, "Сломалось", match=client())
    assert without.contract is None and "without a valid contract" in " ".join(without.trail)


def test_tags_condition() -> None:
    b = rule("{tags: [vip, partner]}")
    assert decided(b, "x", match=client(tags=("partner", "retail"))).rule == "hit"
    assert decided(b, "x", match=client(tags=("retail",))).rule == "default"


def test_first_contact_condition() -> None:
    b = rule("{first_contact: true}")
    assert decided(b, "x", match=client(first_contact=True)).rule == "hit"
    assert decided(b, "x", match=client(first_contact=False)).rule == "default"


def test_time_of_day_in_the_books_time_zone() -> None:
    b = rule('{time: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}}')
    # 09:00 UTC is 12:00 in Moscow on a Wednesday; 16:00 UTC is 19:00 Moscow; Saturday noon is off.
    assert decided(b, "x", at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC)).rule == "hit"
    assert decided(b, "x", at=datetime(2026, 11, 25, 16, 0, tzinfo=UTC)).rule == "default"
    assert decided(b, "x", at=datetime(2026, 11, 28, 9, 0, tzinfo=UTC)).rule == "default"


def test_time_window_across_midnight() -> None:
    b = rule('{time: {from: "22:00", to: "06:00"}}')
    assert decided(b, "x", at=datetime(2026, 11, 25, 20, 30, tzinfo=UTC)).rule == "hit"  # 23:30 Moscow
    assert decided(b, "x", at=datetime(2026, 11, 25, 1, 0, tzinfo=UTC)).rule == "hit"  # 04:00 Moscow
    assert decided(b, "x", at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC)).rule == "default"


def test_all_conditions_of_a_rule_must_hold() -> None:
    b = rule("{channel: [email], keywords: [авария], sla_tier: [premium]}")
    assert decided(b, "Авария!", match=client(tier="premium")).rule == "hit"
    assert decided(b, "Авария!", match=client(tier="premium"), channel="web").rule == "default"
    assert decided(b, "Авария!", match=client()).rule == "default"


def test_first_matching_rule_wins() -> None:
    b = book("""
- name: complaint-first
  when: {keywords: [возврат]}
  then: {type: complaint, category: quality}
- name: purchase
  when: {keywords: [купить, возврат]}
  then: {type: purchase_interest, category: sales}
""")
    assert decided(b, "Хочу купить и оформить возврат").rule == "complaint-first"
    assert decided(b, "Хочу купить").rule == "purchase"


def test_urgency_from_the_rule_or_the_urgency_rules() -> None:
    b = book("""
- name: outage
  when: {keywords: [авария]}
  then: {type: service_request, category: service, urgency: critical}
- name: question
  when: {keywords: [вопрос]}
  then: {type: information_request, category: general}
""", urgency="""
- name: urgent
  when: {keywords: [срочно]}
  urgency: high
""")
    assert decided(b, "Авария").urgency is Urgency.CRITICAL
    assert decided(b, "Срочно: авария").urgency is Urgency.CRITICAL  # the rule's own urgency decides
    assert decided(b, "Срочно вопрос").urgency is Urgency.HIGH
    assert decided(b, "Вопрос").urgency is Urgency.NORMAL


def test_classifier_only_when_no_rule_fires_and_triage_below_threshold() -> None:
    b = rule("{keywords: [жалоба]}")
    seen: list[str] = []

    def model(text: Text) -> Guess:
        seen.append(text.raw)
        if "лицензи" in text.raw:
            return Guess(((ContactType.PURCHASE_INTEREST, 0.9), (ContactType.INFORMATION_REQUEST, 0.06),
                          (ContactType.COMPLAINT, 0.02), (ContactType.SERVICE_REQUEST, 0.02)), (("лицензия", 0.8),))
        return Guess(((ContactType.COMPLAINT, 0.35), (ContactType.INFORMATION_REQUEST, 0.3),
                      (ContactType.SERVICE_REQUEST, 0.2), (ContactType.PURCHASE_INTEREST, 0.15)))

    assert classify(b, facts("Пишу жалобу"), model).rule == "hit"
    assert seen == []  # a rule fired: the classifier was not asked
    sure = classify(b, facts("Нужны ещё лицензии"), model)
    assert (sure.type, sure.rule, sure.category) == (ContactType.PURCHASE_INTEREST, "classifier", "purchase_interest")
    assert "weighed most: «лицензия» +0.80" in sure.trail[1]
    unsure = classify(b, facts("Добрый день"), model)
    # Never a silent default: the likeliest type, marked for triage, with both guesses.
    assert (unsure.type, unsure.rule, unsure.triage) == (ContactType.COMPLAINT, "triage", True)
    assert unsure.note == "triage: complaint 0.35 or information_request 0.30"
    assert "unsure" in unsure.trail[-1] and "complaint or information_request" in unsure.trail[-1]
    assert classify(b, facts("Добрый день")).rule == "default"  # no model loaded at all: the book's default


@pytest.mark.parametrize(("text", "expected", "rule_name", "category"), [
    ("У меня жалоба на качество обслуживания", ContactType.COMPLAINT, "complaint", "quality"),
    ("Пишу жалобу на вашего курьера", ContactType.COMPLAINT, "complaint", "quality"),
    ("Кассовый аппарат не запускается после обновления", ContactType.SERVICE_REQUEST, "fault",
     "service-no-contract"),
    ("Хотим приобрести ещё три лицензии, пришлите стоимость", ContactType.PURCHASE_INTEREST, "classifier", "sales"),
    ("Подскажите, до скольки вы работаете в субботу?", ContactType.INFORMATION_REQUEST, "classifier", "general"),
    ("Please send a quote for 20 seats", ContactType.PURCHASE_INTEREST, "classifier", "sales"),
    ("Our terminal is broken, please fix it", ContactType.SERVICE_REQUEST, "classifier", "service-no-contract"),
    ("I want a refund, this is unacceptable", ContactType.COMPLAINT, "classifier", "quality"),
    ("ne rabotaet 1s, pomogite pozhaluysta", ContactType.SERVICE_REQUEST, "classifier", "service-no-contract"),
    # Issue 19's examples, which the old book sent to the default type.
    ("Сколько стоит внедрение для компании на 50 пользователей?", ContactType.PURCHASE_INTEREST,
     "purchase-interest", "sales"),
    ("Сколько стоит внедрение вашей системы для компании на 50 сотрудников?", ContactType.PURCHASE_INTEREST,
     "purchase-interest", "sales"),
    ("Прошу в рамках договора сопровождения обновить конфигурацию 1С…", ContactType.SERVICE_REQUEST,
     "classifier", "service"),
    ("По договору ИТС нужна консультация…", ContactType.SERVICE_REQUEST, "classifier", "service"),
])
def test_built_in_book_and_model(default_book: RuleBook, text: str, expected: ContactType, rule_name: str,
                                 category: str) -> None:
    result = classify(default_book, Facts("email", reading(None, text), client(), WEDNESDAY_NOON), built_in_model())
    assert (result.type, result.rule, result.category) == (expected, rule_name, category)


def test_quoted_history_neither_types_nor_hurries_a_contact(default_book: RuleBook) -> None:
    text = "Спасибо, всё работает! Где теперь отчёт по остаткам?\n\n> СРОЧНО! Не работает проведение, жалоба"
    result = classify(default_book, Facts("email", reading("Re: СРОЧНО", text), client(), WEDNESDAY_NOON),
                      built_in_model())
    assert (result.type, result.rule, result.urgency) == (ContactType.INFORMATION_REQUEST, "classifier",
                                                          Urgency.NORMAL)


def test_not_urgent_is_low_and_urgent_is_high(default_book: RuleBook) -> None:
    assert decided(default_book, "Не срочно: поправьте шаблон счёта").urgency is Urgency.LOW
    assert decided(default_book, "Срочно поправьте шаблон счёта").urgency is Urgency.HIGH
