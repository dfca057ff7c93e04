"""The parser on every real mail of ``../shared/corpus/email``: none crashes, none is lost, text is readable,
auto-replies and bounces are recognised, and quoted history is cut from replies."""

from __future__ import annotations

from pathlib import Path

import pytest

from priyom_intake_email.mail.machine_written import MailKind
from priyom_intake_email.mail.parsing import NormalisedMail, parse
from priyom_intake_email.mail.quotes import strip_reply


@pytest.fixture
def email_dir(corpus_dir: Path) -> Path:
    return corpus_dir / "email"


def mails(root: Path) -> list[Path]:
    # zapier-email-reply-parser holds bodies without headers: they test reply stripping, not MIME.
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SOURCE.md"
                  and "zapier-email-reply-parser" not in p.parts)


def load(root: Path, relative: str) -> NormalisedMail:
    return parse((root / relative).read_bytes())


def test_every_corpus_mail_normalises_to_readable_text(email_dir: Path) -> None:
    files = mails(email_dir)
    assert len(files) >= 270
    keys = {}
    for path in files:
        raw = path.read_bytes()
        mail = parse(raw)
        readable = mail.subject + mail.sender_name + mail.full_text + "".join(f.filename for f in mail.files)
        # No replacement character that we made (one mail carries U+FFFD bytes in its own file name).
        assert "\ufffd" not in readable or "\ufffd".encode() in raw, path
        assert mail.idempotency_key.startswith("email:"), path
        assert mail.text or mail.files or not mail.full_text, path
        keys.setdefault(mail.idempotency_key, []).append(mail)
    # Mails share a key only when they are one mail: same Message-ID, sender, subject and text (CRLF and LF
    # twins, or one body with and without a multipart wrapper).
    for same in keys.values():
        first = same[0]
        assert all((m.message_id, m.sender_email, m.subject, m.full_text)
                   == (first.message_id, first.sender_email, first.subject, first.full_text) for m in same)
    assert len(keys) >= 0.8 * len(files)


@pytest.mark.parametrize(("relative", "needle"), [
    ("mailgun-flanker/bilingual-simple.eml", "А эта линия по-русски."),
    ("redmine/gmail-iso8859-2.eml", "Na štriku se suši šosić."),
    ("redmine/body_ks_c_5601-1987.eml", "고맙습니다"),
    ("kopano-core/unknown-text-charset.eml", "☺"),
    ("sisimai-set-of-emails/maildir/bsd/lhost-mailru-01.eml", "Это письмо создано автоматически"),
    ("mikel-mail/plain_emails/raw_email_bad_time.eml", "believed to be clean"),  # unquoted boundary with "="
])
def test_legacy_and_broken_charsets_decode(email_dir: Path, relative: str, needle: str) -> None:
    assert needle in load(email_dir, relative).full_text


def test_encoded_headers_and_filenames(email_dir: Path) -> None:
    mailru = load(email_dir, "sisimai-set-of-emails/maildir/bsd/lhost-mailru-01.eml")
    assert mailru.subject == "Ваше сообщение не доставлено. Mail failure."
    rfc2231 = load(email_dir, "bestpractical-rt/rfc2231-attachment-filename-continuations")
    assert [f.filename for f in rfc2231.files] == ["新しいテキスト ドキュメント.txt"]
    assert load(email_dir, "redmine/subject_as_iso-8859-1.eml").subject.isprintable()


def test_html_only_mail_becomes_clean_text(email_dir: Path) -> None:
    mail = load(email_dir, "redmine/ticket_html_only.eml")
    assert mail.html_only
    assert mail.text == "This is a html-only email.\n\nWith a title\n\nand a paragraph."
    assert "<" not in load(email_dir, "redmine/outlook_web_access_2010_html_only.eml").full_text


def test_quoted_history_is_stripped_and_the_original_kept(email_dir: Path) -> None:
    for path in sorted((email_dir / "mailgun-talon" / "standard_replies").glob("*.eml")):
        mail = parse(path.read_bytes())
        assert mail.text == "Hello", path.name
        assert "Hi" in mail.full_text, path.name


def test_reply_stripping_on_bodies(email_dir: Path) -> None:
    root = email_dir / "zapier-email-reply-parser"
    text = strip_reply((root / "email_1_3.txt").read_bytes().decode())
    assert text.startswith("Oh thanks.") and "wrote:" not in text and ">" not in text
    middle = strip_reply((root / "email_sig_delimiter_in_middle_of_line.txt").read_bytes().decode())
    assert middle.endswith("kthxbai")  # "-- " inside a line is no signature
    russian = "Спасибо, получил.\n\n12.03.2026, 10:15, Иван Петров пишет:\n> Добрый день!\n> Счёт во вложении."
    assert strip_reply(russian) == "Спасибо, получил."
    outlook_ru = ("Ок.\n\nОт: Поддержка <support@priyom.local>\nОтправлено: 12 марта 2026 г. 10:00\n"
                  "Кому: Иван\nТема: [#2026-000123] Счёт\n\nДобрый день")
    assert strip_reply(outlook_ru) == "Ок."
    assert strip_reply("Привет\n\n--\nИван\nОтправлено с iPhone") == "Привет"


@pytest.mark.parametrize("name", ["rfc3834-01.eml", "rfc3834-02.eml", "rfc3834-03.eml", "rfc3834-05.eml"])
def test_auto_replies_are_recognised(email_dir: Path, name: str) -> None:
    assert load(email_dir, f"sisimai-set-of-emails/maildir/bsd/{name}").kind is MailKind.AUTO_REPLY


def test_bounces_are_recognised_with_the_failed_addresses(email_dir: Path) -> None:
    maildir = email_dir / "sisimai-set-of-emails" / "maildir" / "bsd"
    bounces = sorted(p for p in maildir.glob("*.eml") if p.name.startswith(("lhost-", "rhost-", "rfc3464-")))
    assert len(bounces) >= 30
    kinds = {p.name: parse(p.read_bytes()).kind for p in bounces}
    assert {name for name, kind in kinds.items() if kind is not MailKind.BOUNCE} == set()
    dsn = load(email_dir, "mikel-mail/multipart_report_emails/multi_address_bounce1.eml")
    assert len(dsn.undeliverable) == 5 and all("@gmail.com" in a for a in dsn.undeliverable)
    iua = load(email_dir, "sisimai-set-of-emails/maildir/bsd/rhost-iua-01.eml")
    assert iua.undeliverable == ["neko@email.example.ua"]
    assert iua.in_reply_to == "20190429233445.0E1D4CDC0054@mail.example.co.jp"  # the returned message
    delayed = load(email_dir, "mikel-mail/multipart_report_emails/report_422.eml")
    assert delayed.kind is MailKind.BOUNCE and delayed.undeliverable == []  # a delay names no dead address


def test_people_and_reports_are_not_bounces(email_dir: Path) -> None:
    for name in ("is-not-bounce-01.eml", "is-not-bounce-02.eml"):
        assert load(email_dir, f"sisimai-set-of-emails/maildir/not/{name}").kind is MailKind.PERSON
    assert load(email_dir, "sisimai-set-of-emails/maildir/bsd/arf-01.eml").kind is MailKind.REPORT
    assert load(email_dir, "mailgun-flanker/disposition-notification.eml").kind is MailKind.REPORT


def test_crlf_and_lf_copies_of_one_mail_share_one_key(email_dir: Path) -> None:
    maildir = email_dir / "sisimai-set-of-emails" / "maildir"
    twins = sorted(p.name for p in (maildir / "dos").glob("*.eml"))
    assert twins
    for name in twins:
        dos, bsd = parse((maildir / "dos" / name).read_bytes()), parse((maildir / "bsd" / name).read_bytes())
        assert dos.idempotency_key == bsd.idempotency_key
