"""Identifiers as people type them, turned into the one form identity stores and matches on. Pure.

A phone becomes E.164 (``+79161234567``) so ``8 (916) 123-45-67``, ``+7 916 123 45 67`` and ``89161234567``
are one number; its extension is kept apart, because a company's main line is the same number whichever
desk answers. An email becomes stripped and lower-case: no real mailbox provider treats case as significant,
and customers type it differently each time.

Invalid input raises :class:`InvalidIdentifier` (a ``ValueError``) with a reason that never repeats the
value, so it is safe to log and to put in a dead-letter header. Returning ``None`` would let a caller
forget to say *why* a number was refused; the caller decides whether that is fatal (the API answers 422,
a contact with other identifiers simply does not match on the bad one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

#: Internal PBX extensions (``CallerIDNum: 101``) are digits only and this short; no public number is.
MAX_EXTENSION_DIGITS = 6
_DIGITS = re.compile(r"\d")


class InvalidIdentifier(ValueError):
    """The value cannot identify anyone. The message says why, without repeating the value."""


@dataclass(frozen=True)
class NormalisedPhone:
    """A phone as identity stores it: E.164 for matching, the extension alongside."""

    e164: str
    extension: str | None = None


def normalise_phone(raw: str, region: str = "RU") -> NormalisedPhone:
    """E.164 and extension of a phone written any common way; ``region`` applies to numbers without ``+``.

    Raises :class:`InvalidIdentifier` for text that is not a phone, internal PBX extensions and numbers
    outside the ranges the numbering plan allocates (``+7 000 …``), so garbage never becomes a match key.
    """
    text = raw.strip()
    digits = "".join(_DIGITS.findall(text))
    if not digits:
        raise InvalidIdentifier("phone has no digits")
    if len(digits) <= MAX_EXTENSION_DIGITS and not text.startswith("+"):
        raise InvalidIdentifier("phone looks like an internal PBX extension, not a public number")
    number = _parse(text, region)
    if number is None and text.startswith("00"):
        # "00 44 20 …" is how most of the world dials abroad; Russia's own prefix is 810.
        number = _parse("+" + text[2:], region)
    if number is None:
        raise InvalidIdentifier(f"phone is not a valid number (default region {region})")
    return NormalisedPhone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        extension=number.extension or None,
    )


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    # parse() accepts "123" as +7123; only a number in an allocated range is worth matching on.
    return number if phonenumbers.is_valid_number(number) else None


@dataclass(frozen=True)
class EmailRules:
    """How mailbox providers read the local part, so one mailbox is one identifier.

    Gmail ignores dots (``i.van@gmail.com`` is ``ivan@gmail.com``) and, like Yandex, delivers
    ``ivan+shop@`` to ``ivan@``; ``googlemail.com`` is Gmail. Anywhere else dots and ``+`` may be real
    parts of distinct addresses, so only the listed domains are folded (configurable per deployment).
    """

    ignore_dots: frozenset[str] = frozenset({"gmail.com"})
    subaddress: frozenset[str] = frozenset({"gmail.com", "yandex.ru", "ya.ru", "outlook.com", "icloud.com"})
    aliases: tuple[tuple[str, str], ...] = (("googlemail.com", "gmail.com"),)


DEFAULT_EMAIL_RULES = EmailRules()
MAX_EMAIL_CHARS = 320


def normalise_email(raw: str, rules: EmailRules = DEFAULT_EMAIL_RULES) -> str:
    """Stripped, lower-case and folded by the provider's rules (:class:`EmailRules`).

    Raises :class:`InvalidIdentifier` when it is not shaped like an address.
    """
    value = raw.strip().lower()
    local, at, domain = value.rpartition("@")
    if (not at or not local or "." not in domain or domain.startswith(".") or domain.endswith(".")
            or "@" in local or len(value) > MAX_EMAIL_CHARS or any(c.isspace() for c in value)):
        raise InvalidIdentifier("email is not an address")
    domain = dict(rules.aliases).get(domain, domain)
    if domain in rules.subaddress and "+" in local[1:]:
        local = local[: local.index("+", 1)]
    if domain in rules.ignore_dots:
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


def email_domain(normalised: str) -> str:
    """The domain of an address :func:`normalise_email` returned."""
    return normalised.rpartition("@")[2]


def normalise_messenger_id(user_id: str) -> str:
    """Messenger ids are opaque and exact (Telegram user ids are numbers); only surrounding space goes."""
    value = user_id.strip()
    if not value:
        raise InvalidIdentifier("messenger user id is empty")
    return value
