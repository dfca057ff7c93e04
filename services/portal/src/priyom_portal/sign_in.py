"""Signing a customer in without a password: what is an identifier, who may sign in with it, codes and tokens.

Pure: no HTTP, no SQL. A customer types an e-mail address or their Telegram user id; identity's card says
whether that identifier is *verified* (an agent confirmed it or a channel proved it) and whose it is. Only a
verified identifier gets a code: a claim typed into the web form would otherwise let anyone who typed someone
else's address read their requests.

Codes and session tokens are stored as keyed hashes (HMAC-SHA256 with ``PORTAL_SESSION_SECRET``): a copy of the
database opens nothing, and a code cannot be guessed from its hash offline. A code is six digits: with
``PORTAL_CODE_ATTEMPTS`` entries per code and the per-identifier limit on codes, a guesser's chance stays
around attempts / 10⁶ per code.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date

from priyom_contracts import ClientCard, MessengerId, Recipient, Sender

EMAIL = "email"
TELEGRAM = "messenger:telegram"
CODE_DIGITS = 6
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_TELEGRAM_ID = re.compile(r"^[0-9]{3,20}$")


class NotAnIdentifier(ValueError):
    """What the customer typed is neither an e-mail address nor a Telegram user id."""


@dataclass(frozen=True)
class Identifier:
    """An e-mail address or a Telegram user id, as typed (trimmed; an address in lower case)."""

    kind: str
    value: str

    @classmethod
    def parse(cls, typed: str) -> Identifier:
        value = typed.strip()
        if _EMAIL.match(value) and len(value) <= 320:
            return cls(EMAIL, value.lower())
        if _TELEGRAM_ID.match(value.removeprefix("tg:")):
            return cls(TELEGRAM, value.removeprefix("tg:"))
        raise NotAnIdentifier("give the e-mail address or the Telegram id on your card")

    @property
    def channel(self) -> str:
        """The channel service that delivers a code to it."""
        return "email" if self.kind == EMAIL else "telegram"

    def recipient(self) -> Recipient:
        if self.kind == EMAIL:
            return Recipient(email=self.value)
        return Recipient(messenger=MessengerId(channel="telegram", user_id=self.value))

    def sender(self) -> Sender:
        """Who the customer's messages from the portal come from: the identifier they proved."""
        if self.kind == EMAIL:
            return Sender(email=self.value)
        return Sender(messenger=MessengerId(channel="telegram", user_id=self.value))


@dataclass(frozen=True)
class Account:
    """Whose requests a signed-in customer sees: the card's, or only one contact person's."""

    client_id: uuid.UUID
    person_id: uuid.UUID | None
    sees_organisation: bool
    #: The card is a client's with a contract or an SLA tier above the default: ``clients`` articles are theirs.
    reads_clients: bool = False

    @property
    def person_filter(self) -> uuid.UUID | None:
        """The person tickets must narrow the list to, or None for the whole card."""
        return None if self.sees_organisation else self.person_id


#: The SLA tier every card has until someone sets another; a card above it is a client's.
DEFAULT_SLA_TIER = "standard"


def in_clients_group(card: ClientCard, today: date) -> bool:
    """Whether the card's people read the ``clients`` articles: a contract in force today, or an SLA tier above
    the default. Decided at sign-in and kept for the session (a contract ending mid-session ends with it)."""
    in_force = any((c.valid_from is None or c.valid_from <= today) and (c.valid_to is None or today <= c.valid_to)
                   for c in card.contracts)
    return in_force or card.sla_tier != DEFAULT_SLA_TIER


def account_of(card: ClientCard, today: date) -> Account | None:
    """Who signs in with the identifier the card was looked up by, if it is verified; None otherwise.

    A private client's card is theirs. On an organisation's card, a contact person marked ``representative``
    sees every request of the organisation, any other person only their own; the organisation's own
    identifier (no person: a shared mailbox, which receives every reply anyway) sees the organisation's.
    """
    matched = next((i for i in card.identifiers if i.id == card.matched_identifier), None)
    if matched is None or not matched.verified:
        return None
    if card.kind == "person" or matched.person_id is None:
        return Account(card.id, matched.person_id, sees_organisation=True,
                       reads_clients=in_clients_group(card, today))
    person = next((p for p in card.persons if p.id == matched.person_id), None)
    if person is None or person.erased:
        return None
    return Account(card.id, person.id, sees_organisation=person.role == "representative",
                   reads_clients=in_clients_group(card, today))


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for one purpose (a code of one attempt, a session token), hex."""
    return hmac.new(secret.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def code_hash(secret: str, attempt_id: uuid.UUID, code: str) -> str:
    return keyed_hash(secret, f"code:{attempt_id}", code)


def token_hash(secret: str, token: str) -> str:
    return keyed_hash(secret, "session", token)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
