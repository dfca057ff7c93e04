"""The built-in rule book and model on real mail from ``../shared/corpus/email/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from priyom_contracts import ContactType, Urgency
from priyom_router.assignment import Roster
from priyom_router.learned import built_in_model
from priyom_router.own_text import reading
from priyom_router.routing import decide
from priyom_router.rules import ClassifyRule, RuleBook, Then, When
from priyom_router.text_match import Text
from priyom_router.training import read_mail

from .conftest import client, contact


def routed(corpus_dir: Path, book: RuleBook, relative: str):
    subject, body = read_mail(corpus_dir / "email" / relative)
    return decide(contact(body, subject), "email", client(), book, Roster(), second_opinion=built_in_model())


@pytest.mark.parametrize("relative", [
    "sisimai-set-of-emails/maildir/bsd/lhost-mailru-01.eml",  # «Ваше письмо не может быть доставлено»
    "sisimai-set-of-emails/maildir/bsd/lhost-mailru-04.eml",
    "sisimai-set-of-emails/maildir/dos/lhost-mailru-01.eml",
    "sisimai-set-of-emails/maildir/bsd/lhost-yandex-01.eml",  # «Недоставленное сообщение», «… отправлено»
])
def test_russian_bounces_are_delivery_notices_not_service_requests(corpus_dir: Path, default_book: RuleBook,
                                                                    relative: str) -> None:
    # These notices also say "error" and "failure": the service rule would fire if it came first.
    decision = routed(corpus_dir, default_book, relative)
    r = decision.routing
    assert (r.type, r.category, r.rule) == (ContactType.INFORMATION_REQUEST, "mail-delivery", "undeliverable-notice")
    assert "keyword «" in r.trail[0]


def test_russian_debt_notice_is_a_billing_question_not_a_fault(corpus_dir: Path, default_book: RuleBook) -> None:
    # «об имеющейся задолженности» (genitive) hits the billing category's «задолженность» (nominative); the
    # «ошибки» of the article quoted below the notice no longer make it a service request.
    subject, body = read_mail(corpus_dir / "email" / "spamscope-mail-parser/mail_test_1")
    billing = next(r for r in default_book.categories if r.name == "billing-question")
    assert reading(subject, body).first_hit(billing.when.any_of).source == "задолженность"
    r = routed(corpus_dir, default_book, "spamscope-mail-parser/mail_test_1").routing
    assert (r.type, r.category) == (ContactType.INFORMATION_REQUEST, "billing")
    assert "category billing by billing-question: keyword «задолженность»" in r.trail


def test_english_request_for_quotation_is_an_urgent_lead(corpus_dir: Path, default_book: RuleBook) -> None:
    r = routed(corpus_dir, default_book, "spamscope-mail-parser/mail_test_15").routing
    assert (r.type, r.category, r.urgency) == (ContactType.PURCHASE_INTEREST, "sales", Urgency.HIGH)
    # Sure, it goes to sales; unsure, to triage with both guesses in the reason.
    assert r.team == "sales" if r.rule == "classifier" else (r.team, r.rule) == ("triage", "triage")


def test_english_crash_report_is_a_service_request(corpus_dir: Path, default_book: RuleBook) -> None:
    r = routed(corpus_dir, default_book, "bestpractical-rt/multipart-alternative-with-umlaut").routing
    assert (r.type, r.rule, r.team) == (ContactType.SERVICE_REQUEST, "classifier", "service")


@pytest.mark.parametrize("relative", [
    "sisimai-set-of-emails/maildir/bsd/lhost-gmail-01.eml",
    "sisimai-set-of-emails/maildir/bsd/lhost-exim-01.eml",
    "sisimai-set-of-emails/maildir/bsd/lhost-office365-01.eml",
])
def test_english_bounces_are_delivery_notices(corpus_dir: Path, default_book: RuleBook, relative: str) -> None:
    assert routed(corpus_dir, default_book, relative).routing.rule == "undeliverable-notice"


def test_bilingual_small_talk_fires_no_rule_and_the_model_reads_a_question(corpus_dir: Path,
                                                                           default_book: RuleBook) -> None:
    r = routed(corpus_dir, default_book, "mailgun-flanker/bilingual-simple.eml").routing
    assert (r.type, r.rule) == (ContactType.INFORMATION_REQUEST, "classifier")


def test_every_corpus_mail_gets_a_decision(corpus_dir: Path, default_book: RuleBook) -> None:
    """No real mail, however broken its charset, makes the decision fail."""
    files = [p for p in (corpus_dir / "email").rglob("*") if p.is_file() and p.name != "SOURCE.md"]
    assert len(files) > 200
    types = {routed(corpus_dir, default_book, str(p.relative_to(corpus_dir / "email"))).routing.type
             for p in files}
    assert types <= set(ContactType) and len(types) >= 3


def test_russian_purchase_keywords_hit_the_inflected_forms_of_real_business_mail(corpus_dir: Path,
                                                                                default_book: RuleBook) -> None:
    # The mail writes «цены» and «стоимости»; a rule says «цена» and «стоимость», and hits them. They are in
    # the newsletter below the inspector's signature, though, which classification no longer reads.
    purchase = ClassifyRule(name="purchase-interest", when=When(keywords=["цена", "стоимость"]),
                            then=Then(type=ContactType.PURCHASE_INTEREST, category="sales"))
    only_purchase = default_book.model_copy(update={"rules": [purchase]})
    subject, body = read_mail(corpus_dir / "email" / "spamscope-mail-parser/mail_test_1")
    text = Text(subject, body)
    forms = {w for w, s in zip(text.words, text.stems, strict=True) if s in {"цен", "стоимост"}}
    assert {"цены", "стоимости"} <= forms and "цена" not in forms
    assert text.first_hit(purchase.when.any_of).source == "цена"
    assert reading(subject, body).first_hit(purchase.when.any_of) is None
    r = routed(corpus_dir, only_purchase, "spamscope-mail-parser/mail_test_1").routing
    assert r.rule != "purchase-interest" and r.trail[0] == "no rule fired"
