"""Phones and emails as customers really type them, normalised to what identity matches on."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from priyom_identity.canonical_identifiers import (
    DEFAULT_EMAIL_RULES,
    EmailRules,
    InvalidIdentifier,
    NormalisedPhone,
    normalise_email,
    normalise_messenger_id,
    normalise_phone,
)


@pytest.mark.parametrize(
    "raw",
    ["8 (916) 123-45-67", "+7 916 123 45 67", "89161234567", "+79161234567", "7-916-123-4567",
     "916 123 45 67", "tel:+7-916-123-45-67", " +7(916)1234567 ", "8-916-123-45-67"],
)
def test_russian_mobile_in_every_spelling_is_one_number(raw: str) -> None:
    assert normalise_phone(raw, "RU") == NormalisedPhone("+79161234567")


@pytest.mark.parametrize(
    ("raw", "e164", "extension"),
    [
        ("8 (495) 123-45-67 доб. 123", "+74951234567", "123"),
        ("+7 495 123-45-67 ext. 55", "+74951234567", "55"),
        ("+7 916 123 45 67 доб 5", "+79161234567", "5"),
        ("+74951234567;ext=7", "+74951234567", "7"),
    ],
)
def test_extension_is_kept_apart_from_the_number(raw: str, e164: str, extension: str) -> None:
    assert normalise_phone(raw, "RU") == NormalisedPhone(e164, extension)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("8 10 44 20 7946 0958", "+442079460958"),  # Russia's own international prefix
        ("00 44 20 7946 0958", "+442079460958"),  # the prefix most of the world uses
        ("+380 44 123 4567", "+380441234567"),
        ("+1 650 253 0000", "+16502530000"),
        ("8-800-555-35-35", "+78005553535"),
    ],
)
def test_foreign_and_toll_free_numbers(raw: str, e164: str) -> None:
    assert normalise_phone(raw, "RU").e164 == e164


def test_default_region_decides_numbers_without_country_code() -> None:
    assert normalise_phone("020 7946 0958", "GB").e164 == "+442079460958"
    with pytest.raises(InvalidIdentifier):
        normalise_phone("020 7946 0958", "RU")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "no digits"),
        ("не скажу", "no digits"),
        ("anonymous", "no digits"),
        ("101", "extension"),
        ("2345", "extension"),
        ("123456", "extension"),
        ("+7123", "not a valid number"),
        ("+7 000 000 00 00", "not a valid number"),
        ("12345678901", "not a valid number"),
        ("1234567", "not a valid number"),
    ],
)
def test_garbage_and_pbx_extensions_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason) as info:
        normalise_phone(raw, "RU")
    if raw.strip("+"):
        assert raw not in str(info.value), "the reason must not repeat personal data"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Ivan.Petrov@Example.RU", "ivan.petrov@example.ru"), ("  a@b.ru\n", "a@b.ru"),
     ("ОЛЬГА@пример.рф", "ольга@пример.рф")],
)
def test_email_is_stripped_and_lower_case(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "no-at-sign", "@example.ru", "a@localhost", "a b@example.ru"])
def test_email_garbage_is_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalise_email(raw)


def test_messenger_id_is_exact() -> None:
    assert normalise_messenger_id(" 123456789 ") == "123456789"
    with pytest.raises(InvalidIdentifier):
        normalise_messenger_id("  ")


# -- properties -------------------------------------------------------------------------------------------

# Russian mobile numbers: 9XX and seven digits, in the ranges the numbering plan allocates.
ru_mobiles = st.integers(900_000_0000, 999_999_9999).map(str).filter(
    lambda n: phonenumbers.is_valid_number(phonenumbers.parse(f"+7{n}"))  # a few 9XX codes are unallocated
)


def spellings(national: str) -> list[str]:
    """How people write one Russian number: with 8, +7, 7, spaces, dashes and brackets."""
    a, b, c, d = national[:3], national[3:6], national[6:8], national[8:]
    return [f"8 ({a}) {b}-{c}-{d}", f"+7 {a} {b} {c} {d}", f"8{national}", f"+7{national}",
            f"7-{a}-{b}-{c}{d}", f"{a} {b} {c} {d}", f"+7({a}){b}{c}{d}"]


@given(ru_mobiles)
def test_every_spelling_of_one_number_maps_to_one_e164(national: str) -> None:
    results = {normalise_phone(raw, "RU") for raw in spellings(national)}
    assert results == {NormalisedPhone(f"+7{national}")}


@given(st.text(max_size=40), st.sampled_from(["RU", "GB", "US", "DE"]))
def test_normalising_a_normalised_phone_changes_nothing(raw: str, region: str) -> None:
    try:
        once = normalise_phone(raw, region)
    except InvalidIdentifier:
        return
    assert normalise_phone(once.e164, region).e164 == once.e164
    # And from any other region: E.164 carries its country, so the default region no longer matters.
    assert normalise_phone(once.e164, "RU").e164 == once.e164


@given(ru_mobiles.map(lambda n: f"+7{n}"), st.text(alphabet="0123456789", min_size=1, max_size=5))
def test_extension_survives_renormalising(e164: str, extension: str) -> None:
    once = normalise_phone(f"{e164} доб. {extension}", "RU")
    assert once.extension == extension
    assert normalise_phone(f"{once.e164};ext={once.extension}", "RU") == once


@given(st.emails())
def test_normalising_a_normalised_email_changes_nothing(raw: str) -> None:
    try:
        once = normalise_email(raw)
    except InvalidIdentifier:
        return
    assert normalise_email(once) == once
    assert normalise_email(raw.upper()) == once


# -- mailbox provider rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ivan.Petrov@gmail.com", "ivanpetrov@gmail.com"),
        ("i.v.a.n.petrov+shop@GoogleMail.com", "ivanpetrov@gmail.com"),
        ("ivan+orders@yandex.ru", "ivan@yandex.ru"),
        ("ivan.petrov@yandex.ru", "ivan.petrov@yandex.ru"),  # Yandex keeps dots significant here
        ("ivan.petrov+x@example.ru", "ivan.petrov+x@example.ru"),  # a company's server: + may be real
        ("+ivan@gmail.com", "+ivan@gmail.com"),  # a leading + is the whole name, not a tag
    ],
)
def test_provider_rules_fold_one_mailbox_into_one_identifier(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


def test_provider_rules_are_configurable() -> None:
    strict = EmailRules(ignore_dots=frozenset(), subaddress=frozenset(), aliases=())
    assert normalise_email("Ivan.Petrov+x@GoogleMail.com", strict) == "ivan.petrov+x@googlemail.com"
    corporate = EmailRules(ignore_dots=frozenset({"corp.example"}), subaddress=frozenset({"corp.example"}))
    assert normalise_email("I.Van+tag@corp.example", corporate) == "ivan@corp.example"


@pytest.mark.parametrize("raw", ["a@@example.ru", "a@example.", "a@.ru", "x" * 330 + "@example.ru"])
def test_more_email_garbage_is_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalise_email(raw)


@given(st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,3}", fullmatch=True),
       st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True))
def test_every_gmail_spelling_of_one_mailbox_is_one_identifier(local: str, tag: str) -> None:
    plain = normalise_email(f"{local.replace('.', '')}@gmail.com")
    spelled = f"{local.upper()}{'+' + tag if tag else ''}@GoogleMail.com"
    assert normalise_email(spelled) == plain == normalise_email(plain)


@given(st.emails(), st.sampled_from([DEFAULT_EMAIL_RULES, EmailRules(frozenset(), frozenset(), ())]))
def test_email_normalising_is_idempotent_under_any_rules(raw: str, rules: EmailRules) -> None:
    try:
        once = normalise_email(raw, rules)
    except InvalidIdentifier:
        return
    assert normalise_email(once, rules) == once
    assert once == once.strip().lower()


@pytest.mark.parametrize(
    ("raw", "extension"),
    [("8/916/123-45-67", None),  # zammad/zammad#5128: a slash stopped caller-ID matching there
     ("+7 916/1234567", None), ("(916) 123 45 67", None), ("+7.916.123.45.67", None),
     ("８ ９１６ １２３ ４５ ６７", None),  # full-width digits from a phone's contact card
     ("+7 (916) 123-45-67 #12", "12"), ("8 916 123 45 67 x 12", "12")],
)
def test_more_spellings_people_paste(raw: str, extension: str | None) -> None:
    assert normalise_phone(raw, "RU") == NormalisedPhone("+79161234567", extension)
