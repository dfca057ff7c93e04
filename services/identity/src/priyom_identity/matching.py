"""Which client card a contact belongs to: the decision, given who owns each identifier. Pure.

The store answers "who owns these identifiers"; this module decides what that means, so the rules
(strongest verified identifier wins, the rest are reported as possible duplicates, unknown identifiers join
the matched person as claims unless the channel proves them, a proof takes an identifier away from a mere
claim) are tested without a database. Which channel proves what is :mod:`.claims`.

Strength order: a messenger id is issued by the messenger to one account and cannot be typed wrong; a
phone is personal more often than not; an email is the easiest to share (``info@``) and to mistype.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from priyom_contracts import MatchKind, MessengerId, Sender

from .canonical_identifiers import (
    DEFAULT_EMAIL_RULES,
    EmailRules,
    InvalidIdentifier,
    email_domain,
    normalise_email,
    normalise_messenger_id,
    normalise_phone,
)
from .policy import MatchPolicy

PHONE = "phone"
EMAIL = "email"
#: A login on the customer web portal (case-insensitive, as portals treat logins).
PORTAL = "portal"
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
    #: The channel proved it is the sender's (a caller's number, a Telegram id); False: only claimed.
    verified: bool = True

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.value

    @property
    def match_kind(self) -> MatchKind:
        if self.kind.startswith(MESSENGER_PREFIX):
            return MatchKind.MESSENGER_ID
        return MatchKind.EXACT_PHONE if self.kind == PHONE else MatchKind.EXACT_EMAIL

    @property
    def domain(self) -> str | None:
        """The mail domain of an email identifier (what corporate-domain matching looks up)."""
        return email_domain(self.value) if self.kind == EMAIL else None


@dataclass(frozen=True)
class Owner:
    """The card (and person, when known) an identifier already belongs to."""

    client_id: uuid.UUID
    person_id: uuid.UUID | None
    provisional: bool = False
    #: The identifier is on the card as proven or agent-confirmed; False: an unverified claim.
    verified: bool = True


class NoUsableIdentifier(ValueError):
    """The sender gave nothing identity can match on. The message lists why each one was refused."""


def sender_identifiers(sender: Sender, region: str,
                       email_rules: EmailRules = DEFAULT_EMAIL_RULES) -> list[Identifier]:
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
            found.append(Identifier(EMAIL, normalise_email(sender.email, email_rules), sender.email))
        except InvalidIdentifier as exc:
            refused.append(str(exc))
    if not found:
        reasons = "; ".join(refused) or "no messenger id, phone or email given"
        raise NoUsableIdentifier(f"sender has no usable identifier ({reasons})")
    return found


def parse_identifiers(phones: list[str], emails: list[str], policy: MatchPolicy,
                      messengers: Sequence[MessengerId] = (), portal_login: str | None = None) -> list[Identifier]:
    """Normalised identifiers of what a person typed in. Raises ``InvalidIdentifier`` for a bad one.

    Messenger ids first, as :func:`sender_identifiers` orders them; a portal login is exact, like a
    messenger id, but kept last: it is matched only when a channel reports it.
    """
    parsed = [Identifier(messenger_kind(m.channel), normalise_messenger_id(m.user_id), m.user_id)
              for m in messengers]
    parsed += [Identifier(PHONE, (n := normalise_phone(p, policy.region)).e164, p, n.extension) for p in phones]
    parsed += [Identifier(EMAIL, normalise_email(e, policy.email), e) for e in emails]
    if portal_login:
        parsed.append(Identifier(PORTAL, portal_login.strip().casefold(), portal_login))
    return parsed


@dataclass(frozen=True)
class Decision:
    """What to do with a contact: link it to ``owner`` (None: create a card) and add ``new_identifiers``.

    ``new_identifiers`` carry ``verified`` as they are to be stored; ``proven_claims`` are identifiers some
    card holds as an unverified claim that this contact's channel proves: they become the contact's card's,
    verified (confirmed in place, or taken from the card that only claimed them).
    """

    match: MatchKind
    owner: Owner | None
    new_identifiers: list[Identifier]
    possible_duplicates: list[uuid.UUID] = field(default_factory=list)
    #: A provisional card that turned out to be this client's (merged into ``owner``'s card).
    absorb: uuid.UUID | None = None
    proven_claims: list[Identifier] = field(default_factory=list)

    @property
    def first_contact(self) -> bool:
        return self.owner is None


def decide(identifiers: Sequence[Identifier], owners: Mapping[tuple[str, str], Owner]) -> Decision:
    """Link to the owner of the strongest known identifier; report other cards as possible duplicates.

    ``identifiers`` must be strongest first (as :func:`sender_identifiers` returns them). Identifiers
    nobody owns are to be added to the matched person; those owned by another card stay where they are,
    because moving them would silently merge two customers on a guess.

    A claim (an identifier on a card unverified) never identifies a contact whose channel proves that
    identifier: a caller's number that a web form once typed onto a card is the caller's, not evidence that
    the caller is that card's client. The proof takes the identifier (``proven_claims``) and the card that
    claimed it is reported as a possible duplicate. A contact that is itself only a claim (a web form, a
    mail) may still thread into the card its same claim made before, but only when no verified identifier
    of the contact is known: a card's verified identifiers always come first.
    """
    claimed = [(i, owners[i.key]) for i in identifiers if i.key in owners and not owners[i.key].verified]
    proven_claims = [(i, o) for i, o in claimed if i.verified]
    verified_known = [(i, owners[i.key]) for i in identifiers if i.key in owners and owners[i.key].verified]
    known = verified_known + [(i, o) for i, o in claimed if not i.verified]
    unknown = [identifier for identifier in identifiers if identifier.key not in owners]
    taken_from = list(dict.fromkeys(o.client_id for _, o in proven_claims))
    proven = [i for i, _ in proven_claims]
    if not known:
        return Decision(match=MatchKind.NEW, owner=None, new_identifiers=unknown, possible_duplicates=taken_from,
                        proven_claims=proven)
    strongest, owner = known[0]
    shared = _shared_phone(verified_known, unknown)
    if shared is not None:
        return _with_proven(shared, proven, taken_from)
    duplicates: list[uuid.UUID] = []
    for _, other in known[1:]:
        if other.client_id != owner.client_id and other.client_id not in duplicates:
            duplicates.append(other.client_id)
    if owner.person_id is None:
        # Matched on a card-level identifier (the office line); a person matched by a weaker one is better.
        person = next((o.person_id for _, o in known if o.client_id == owner.client_id and o.person_id), None)
        owner = Owner(owner.client_id, person, owner.provisional, owner.verified)
    # What joins a card matched on a claim is itself a claim, whatever the channel proved about it.
    trusted = strongest.verified and owner.verified
    new = unknown if trusted else [replace(i, verified=False) for i in unknown]
    decision = Decision(match=strongest.match_kind, owner=owner, new_identifiers=new,
                        possible_duplicates=duplicates)
    return _with_proven(decision, proven, taken_from)


def _with_proven(decision: Decision, proven: list[Identifier], taken_from: list[uuid.UUID]) -> Decision:
    """``decision`` also taking the proven claims; the cards they are taken from become possible duplicates."""
    assert decision.owner is not None
    others = [c for c in taken_from if c != decision.owner.client_id and c not in decision.possible_duplicates]
    return replace(decision, proven_claims=proven, possible_duplicates=[*decision.possible_duplicates, *others])


def _shared_phone(known: Sequence[tuple[Identifier, Owner]], unknown: list[Identifier]) -> Decision | None:
    """A messenger user on a provisional card who sends a phone that a different card has.

    This is Telegram's contact sharing: the messenger vouches that the number is the user's own, so the
    card that has the phone is the client, and the provisional card made from the first message is merely
    an earlier sighting of them; it is absorbed (merged, audited) rather than flagged as a duplicate.
    A confirmed messenger card is never merged on this evidence: an agent decided about it.
    """
    messenger = next(((i, o) for i, o in known if i.kind.startswith(MESSENGER_PREFIX)), None)
    # Only a phone the messenger itself vouches for (Telegram's "share my number") is evidence enough.
    phone = next(((i, o) for i, o in known if i.kind == PHONE and i.verified), None)
    if messenger is None or phone is None:
        return None
    (_, by_messenger), (_, by_phone) = messenger, phone
    if by_messenger.client_id == by_phone.client_id or not by_messenger.provisional:
        return None
    others = [o.client_id for _, o in known
              if o.client_id not in (by_messenger.client_id, by_phone.client_id)]
    return Decision(match=MatchKind.EXACT_PHONE, owner=by_phone, new_identifiers=unknown,
                    possible_duplicates=list(dict.fromkeys(others)), absorb=by_messenger.client_id)
