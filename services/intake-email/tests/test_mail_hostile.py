"""Hostile mail is refused within a bounded time with a reason, never with a crash (LIBRARY-NOTES §8);
and a fuzzer feeds the parser random and mutated mail for a bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from priyom_intake_email.mail.parsing import BadMail, MailLimits, NormalisedMail, parse

HEAD = b"From: a@example.org\r\nTo: b@priyom.local\r\nSubject: x\r\nMessage-ID: <x@example.org>\r\n"


def nested(depth: int) -> bytes:
    body = b"text/plain\r\n\r\nhello\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (b'multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary
                + b"\r\nContent-Type: " + body + b"\r\n--" + boundary + b"--\r\n")
    return HEAD + b"Content-Type: " + body


def refused_quickly(raw: bytes, limits: MailLimits | None = None) -> str:
    started = time.monotonic()
    with pytest.raises(BadMail) as caught:
        parse(raw, limits)
    assert time.monotonic() - started < 3.0
    return caught.value.reason


def test_deep_nesting_is_refused() -> None:
    assert "multipart containers" in refused_quickly(nested(1000))
    assert "nesting deeper than 20" in refused_quickly(nested(30))
    assert parse(nested(5)).text == "hello"


def test_a_hundred_thousand_parts_are_refused() -> None:
    parts = b"".join(b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(100_000))
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + parts + b"--B--\r\n"
    assert "more than 500 MIME parts" in refused_quickly(raw)
    few = HEAD + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + parts[: 40 * 600] + b"--B--\r\n"
    assert "more than 500 MIME parts" in refused_quickly(few)  # under the line count, over the part count


def test_huge_headers_and_huge_mail_are_refused() -> None:
    to = b", ".join(f"user{i}@example.org".encode() for i in range(20_000))
    assert "header section" in refused_quickly(b"To: " + to + b"\r\n" + HEAD + b"\r\nhi\r\n")
    limits = MailLimits(max_bytes=1024 * 1024)
    assert "exceeds the limit" in refused_quickly(HEAD + b"\r\n" + b"x" * (1024 * 1024 + 1), limits)


def test_too_many_attachments_are_refused() -> None:
    parts = b"".join(b"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=f"
                     + str(i).encode() + b".pdf\r\n\r\n%PDF\r\n" for i in range(60))
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + parts + b"--B--\r\n"
    assert "more than 49 attachments" in refused_quickly(raw)


def test_undecodable_parts_do_not_crash() -> None:
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
           b"--B\r\nContent-Type: text/plain; charset=utf-8-purple\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"!!!not*base64===\r\n--B\r\nContent-Type: text/plain; charset=x-unknown\r\n"
           b"Content-Transfer-Encoding: x-uuencode-ish\r\n\r\n\xff\xfe\xd0\xd2\xc9\xd7\xc5\xd4\r\n--B--\r\n")
    mail = parse(raw)
    assert mail.message_id == "x@example.org"
    assert isinstance(mail.full_text, str)


def test_empty_and_missing_message_ids_get_content_keys() -> None:
    body = b"From: a@example.org\r\nMessage-ID: <>\r\nSubject: one\r\n\r\nfirst\r\n"
    other = b"From: a@example.org\r\nMessage-ID: <>\r\nSubject: two\r\n\r\nsecond\r\n"
    first, second = parse(body), parse(other)
    assert first.message_id is None and first.idempotency_key.startswith("email:sha256:")
    assert first.idempotency_key != second.idempotency_key  # f#4740: empty ids neither stall nor collide


def test_a_reused_message_id_with_other_content_is_another_mail() -> None:
    one = parse(HEAD + b"\r\nfirst mail\r\n")
    two = parse(HEAD + b"\r\nsecond mail, same Message-ID\r\n")
    again = parse(b"Received: from relay by mx; Mon, 1 Jan 2026 00:00:00 +0000\r\n" + HEAD + b"\r\nfirst mail\r\n")
    assert one.message_id == two.message_id == "x@example.org"
    assert one.idempotency_key != two.idempotency_key  # f#5591: not silently skipped
    assert one.idempotency_key == again.idempotency_key  # the same mail by another route is one mail


def test_ticket_number_and_thread_headers() -> None:
    raw = (b"From: Ivan <ivan@example.ru>\r\nSubject: =?utf-8?B?UmU6IFsjMjAyNi0wMDAxMjNdINCh0YfRkdGC?=\r\n"
           b"In-Reply-To: <reply-1@priyom.local>\r\nReferences: <a@x> <reply-1@priyom.local>\r\n\r\nOk\r\n")
    mail = parse(raw)
    assert mail.subject == "Re: [#2026-000123] Счёт"
    assert mail.ticket_number == "2026-000123"
    assert (mail.in_reply_to, mail.references) == ("reply-1@priyom.local", ["a@x", "reply-1@priyom.local"])


def _corpus_seeds() -> list[bytes]:
    root = Path(__file__).resolve().parents[3] / "../shared/corpus/email"
    return [p.read_bytes()[:20_000] for p in sorted(root.rglob("*.eml"))[:40]] or [HEAD + b"\r\nhi\r\n"]


def _outcome(raw: bytes) -> None:
    started = time.monotonic()
    try:
        result = parse(raw, MailLimits(time_budget_s=2.0))
    except BadMail as bad:
        assert bad.reason
    else:
        assert isinstance(result, NormalisedMail) and result.idempotency_key
    assert time.monotonic() - started < 5.0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_fuzz_random_bytes(raw: bytes) -> None:
    _outcome(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_corpus_seeds()), st.lists(st.tuples(st.integers(0, 19_999), st.binary(max_size=16)),
                                                   max_size=8))
def test_fuzz_mutated_corpus_mail(seed: bytes, edits: list[tuple[int, bytes]]) -> None:
    raw = bytearray(seed)
    for at, chunk in edits:
        position = at % (len(raw) + 1)
        raw[position:position + len(chunk)] = chunk
    _outcome(bytes(raw))


def _multipart(children: list[bytes]) -> bytes:
    boundary = f"=_{len(children)}_{sum(map(len, children))}".encode()
    inner = b"".join(b"--" + boundary + b"\r\n" + child + b"\r\n" for child in children)
    return b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n' + inner + b"--" + boundary + b"--"


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.just(b"Content-Type: text/plain\r\n\r\nleaf\r\n"),
                    lambda inner: st.lists(inner, min_size=1, max_size=4).map(_multipart), max_leaves=40))
def test_fuzz_generated_structures(body: bytes) -> None:
    _outcome(HEAD + body)
