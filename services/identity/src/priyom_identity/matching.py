"""Which client card a contact belongs to: the decision, given who owns each identifier. Pure.

The store answers "who owns these identifiers"; this module decides what that means, so the rules
(strongest identifier wins, the rest are reported as possible duplicates, unknown identifiers join the
matched person) are tested without a database.

Strength order: a messenger id is issued by the messenger to one account and cannot be typed wrong; a
phone is personal more often than not; an email is the easiest to share (``info@``) and to mistype.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from priyom_contracts import MatchKind, Sender

from .normalise import InvalidIdentifier, normalise_email, normalise_messenger_id, normalise_phone

PHONE = "phone"
EMAIL = "email"
MESSENGER_PREFIX = "messenger:"


def messenger_kind(channel: str) -> str:
    """``messenger:telegram``: a user id means something only inside its own messenger."""
    return f"{MESSENGER_PREFIX}{channel}"


@dataclass(frozen=True)
class Identifier:
    """One normalised identifier of a contact, with the text it came from."""

    kind: str
    value: str
    raw: str
    extension: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.value

    @property
    def match_kind(self) -> MatchKind:
        if self.kind.startswith(MESSENGER_PREFIX):
            return MatchKind.MESSENGER_ID
        return MatchKind.EXACT_PHONE if self.kind == PHONE else MatchKind.EXACT_EMAIL


@dataclass(frozen=True)
class Owner:
    """The card (and person, when known) an identifier already belongs to."""

    client_id: uuid.UUID
    person_id: uuid.UUID | None


class NoUsableIdentifier(ValueError):
    """The sender gave nothing identity can match on. The message lists why each one was refused."""


def sender_identifiers(sender: Sender, region: str) -> list[Identifier]:
    """The sender's usable identifiers, strongest first. Raises :class:`NoUsableIdentifier` when none is.

    A refused phone does not sink a contact that also has an email: it is simply not matched on.
    """
    found: list[Identifier] = []
    refused: list[str] = []
    if sender.messenger is not None:
        try:
            value = normalise_messenger_id(sender.messenger.user_id)
            kind = messenger_kind(sender.messenger.channel)
            found.append(Identifier(kind, value, sender.messenger.user_id))
        except InvalidIdentifier as exc:
            refused.append(str(exc))
    if sender.phone:
        try:
            phone = normalise_phone(sender.phone, region)
            found.append(Identifier(PHONE, phone.e164, sender.phone, phone.extension))
        except InvalidIdentifier as exc:
            refused.append(str(exc))
    if sender.email:
        try:
            found.append(Identifier(EMAIL, normalise_email(sender.email), sender.email))
        except InvalidIdentifier as exc:
            refused.append(str(exc))
    if not found:
        reasons = "; ".join(refused) or "no messenger id, phone or email given"
        raise NoUsableIdentifier(f"sender has no usable identifier ({reasons})")
    return found


@dataclass(frozen=True)
class Decision:
    """What to do with a contact: link it to ``owner`` (None: create a card) and add ``new_identifiers``."""

    match: MatchKind
    owner: Owner | None
    new_identifiers: list[Identifier]
    possible_duplicates: list[uuid.UUID] = field(default_factory=list)

    @property
    def first_contact(self) -> bool:
        return self.owner is None


def decide(identifiers: Sequence[Identifier], owners: Mapping[tuple[str, str], Owner]) -> Decision:
    """Link to the owner of the strongest known identifier; report other cards as possible duplicates.

    ``identifiers`` must be strongest first (as :func:`sender_identifiers` returns them). Identifiers
    nobody owns are to be added to the matched person; those owned by another card stay where they are,
    because moving them would silently merge two customers on a guess.
    """
    known = [(identifier, owners[identifier.key]) for identifier in identifiers if identifier.key in owners]
    unknown = [identifier for identifier in identifiers if identifier.key not in owners]
    if not known:
        return Decision(match=MatchKind.NEW, owner=None, new_identifiers=unknown)
    strongest, owner = known[0]
    duplicates: list[uuid.UUID] = []
    for _, other in known[1:]:
        if other.client_id != owner.client_id and other.client_id not in duplicates:
            duplicates.append(other.client_id)
    if owner.person_id is None:
        # Matched on a card-level identifier (the office line); a person matched by a weaker one is better.
        person = next((o.person_id for _, o in known if o.client_id == owner.client_id and o.person_id), None)
        owner = Owner(owner.client_id, person)
    return Decision(match=strongest.match_kind, owner=owner, new_identifiers=unknown,
                    possible_duplicates=duplicates)
