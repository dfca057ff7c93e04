"""The built-in Russian and English keyword sets on real mail from ``../shared/corpus/email/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from priyom_contracts import ContactType, Urgency
from priyom_router.assignment import Roster
from priyom_router.routing import decide
from priyom_router.rules import RuleBook
from priyom_router.text_match import Text
from priyom_router.training import read_mail

from .conftest import client, contact


def routed(corpus_dir: Path, book: RuleBook, relative: str):
    subject, body = read_mail(corpus_dir / "email" / relative)
    return decide(contact(body, subject), "email", client(), book, Roster())


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


def test_russian_debt_notice_hits_the_billing_keyword_but_an_earlier_rule_wins(corpus_dir: Path,
                                                                              default_book: RuleBook) -> None:
    # «об имеющейся задолженности» (genitive) hits the keyword «задолженность» (nominative); the same mail
    # quotes an article about «ошибки» in invoices, and the service rule comes first in the book, so it wins.
    subject, body = read_mail(corpus_dir / "email" / "spamscope-mail-parser/mail_test_1")
    billing = next(r for r in default_book.rules if r.name == "billing-question")
    assert Text(subject, body).first_hit(billing.when.any_of).source == "задолженность"
    r = routed(corpus_dir, default_book, "spamscope-mail-parser/mail_test_1").routing
    assert r.rule == "service-without-contract" and r.trail[0].endswith("keyword «ошибка»")


def test_english_request_for_quotation_is_an_urgent_lead(corpus_dir: Path, default_book: RuleBook) -> None:
    r = routed(corpus_dir, default_book, "spamscope-mail-parser/mail_test_15").routing
    assert (r.type, r.team, r.urgency) == (ContactType.PURCHASE_INTEREST, "sales", Urgency.HIGH)


def test_english_crash_report_is_a_service_request(corpus_dir: Path, default_book: RuleBook) -> None:
    r = routed(corpus_dir, default_book, "bestpractical-rt/multipart-alternative-with-umlaut").routing
    assert (r.type, r.rule) == (ContactType.SERVICE_REQUEST, "service-without-contract")


@pytest.mark.parametrize("relative", [
    "sisimai-set-of-emails/maildir/bsd/lhost-gmail-01.eml",
    "sisimai-set-of-emails/maildir/bsd/lhost-exim-01.eml",
    "sisimai-set-of-emails/maildir/bsd/lhost-office365-01.eml",
])
def test_english_bounces_are_delivery_notices(corpus_dir: Path, default_book: RuleBook, relative: str) -> None:
    assert routed(corpus_dir, default_book, relative).routing.rule == "undeliverable-notice"


def test_bilingual_small_talk_fires_no_rule(corpus_dir: Path, default_book: RuleBook) -> None:
    r = routed(corpus_dir, default_book, "mailgun-flanker/bilingual-simple.eml").routing
    assert (r.type, r.rule) == (ContactType.INFORMATION_REQUEST, "default")


def test_every_corpus_mail_gets_a_decision(corpus_dir: Path, default_book: RuleBook) -> None:
    """No real mail, however broken its charset, makes the decision fail."""
    files = [p for p in (corpus_dir / "email").rglob("*") if p.is_file() and p.name != "SOURCE.md"]
    assert len(files) > 200
    types = {routed(corpus_dir, default_book, str(p.relative_to(corpus_dir / "email"))).routing.type
             for p in files}
    assert types <= set(ContactType) and len(types) >= 3


def test_russian_purchase_keywords_hit_the_inflected_forms_of_real_business_mail(corpus_dir: Path,
                                                                                default_book: RuleBook) -> None:
    # The mail writes «цены» and «стоимости»; the rule file says «цена» and «стоимость». With only the
    # purchase-interest rule in the book, the real text is a lead, and the trail names the keyword that hit.
    purchase = next(r for r in default_book.rules if r.name == "purchase-interest")
    only_purchase = default_book.model_copy(update={"rules": [purchase]})
    subject, body = read_mail(corpus_dir / "email" / "spamscope-mail-parser/mail_test_1")
    text = Text(subject, body)
    forms = {w for w, s in zip(text.words, text.stems, strict=True) if s in {"цен", "стоимост"}}
    assert {"цены", "стоимости"} <= forms and "цена" not in forms
    r = routed(corpus_dir, only_purchase, "spamscope-mail-parser/mail_test_1").routing
    assert (r.type, r.team, r.rule) == (ContactType.PURCHASE_INTEREST, "sales", "purchase-interest")
    assert r.trail[0] == "rule purchase-interest fired: keyword «цена»"
