"""The two ways a card comes to be: a contact is identified (matched or a provisional card), or a person
registers a card through the API. Each runs inside the caller's transaction and raises ``IntegrityError``
when a concurrent writer claimed one of its identifiers first; the caller retries with a fresh reading.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import CardMerge, ClientMatch, Contact, MatchKind

from . import organisation_domains, store
from .cards import NewClient
from .claims import as_sent_by
from .identifier_claims import take_proven_claims
from .mail_replies import prove_replies
from .matching import (
    EMAIL,
    Decision,
    Identifier,
    NoUsableIdentifier,
    Owner,
    decide,
    parse_identifiers,
    sender_identifiers,
)
from .merging import fold_person, merge_cards
from .new_cards import NewCard, create_provisional_card
from .owners import owners_of, owners_read_together
from .policy import MatchPolicy
from .reach import reach_of

#: Who the audit records as the author of what identification did on its own.
IDENTITY_ACTOR = "identity"
#: The card of machine-written contacts from unknown addresses, and the reserved identifier that finds it.
MACHINE_SENDERS_NAME = "Автоматические отправители"
MACHINE_SENDERS = Identifier("system", "automated-senders", "automated-senders")
#: The card of contacts that gave no identifier at all (a mail with no usable address anywhere): they still
#: become tickets, an agent sees who they are from only in the message, and may move them to the right card.
UNKNOWN_SENDERS_NAME = "Неизвестный отправитель"
UNKNOWN_SENDERS = Identifier("system", "unknown-senders", "unknown-senders")


async def identify_contact(session: AsyncSession, contact: Contact, channel: str, policy: MatchPolicy,
                           changed: set[uuid.UUID] | None = None,
                           merges: list[CardMerge] | None = None) -> ClientMatch:
    """Match ``contact`` to a card, or create a provisional one; record the contact on the card.

    Identifiers the channel does not prove are stored as claims (see :mod:`.claims`). Cards whose lookup
    answer this changes (a provisional card absorbed by Telegram contact sharing, a claim a call proved) are
    added to ``changed``, so the caller can drop them from its cache once the transaction commits; an absorbed
    card is added to ``merges`` too, so the announcement tells services with rows per client where they go.
    A sender with no usable identifier is filed on the shared "unknown sender" card (never refused: after a
    channel accepted the contact, refusing it here would lose it).
    """
    changed = set() if changed is None else changed
    try:
        wanted = as_sent_by(channel, sender_identifiers(contact.sender, policy.region, policy.email))
    except NoUsableIdentifier:
        return await _unknown_sender(session, contact, channel)
    wanted = await prove_replies(session, channel, contact.thread, wanted)
    owners = await owners_of(session, wanted)
    decision = decide(wanted, owners)
    owner = decision.owner
    if decision.absorb is not None and owner is not None:
        owner = await _absorb_shared_contact(session, decision, owner, wanted, owners)
        changed.update({decision.absorb, owner.client_id})
        if merges is not None:
            merges.append(CardMerge(source_id=decision.absorb, target_id=owner.client_id))
    # A machine we have never heard of (a mailer daemon's bounce, an unknown address's auto-reply) gets no
    # card of its own, nor are its addresses kept: a person who later writes from one is a new client.
    machine = owner is None and contact.automated is not None
    new_card = None
    proof = f"channel:{channel}"
    if machine:
        owner = await _machine_senders(session)
    elif owner is None:
        owner = await _colleague(session, contact, wanted, policy)
        if owner is None:
            new_card = await _provisional_card(session, contact, channel, wanted, decision.new_identifiers, proof)
            owner = new_card.owner
    if not machine:
        changed.update(await take_proven_claims(session, owner, decision.proven_claims, verified_by=proof,
                                                actor=IDENTITY_ACTOR))
    if new_card is None:  # a new card was written with its identifiers and this contact
        if not machine:
            await store.add_identifiers(session, owner, decision.new_identifiers, verified_by=proof)
        await store.record_contact(session, owner, channel=channel, contact_id=contact.contact_id,
                                   occurred_at=contact.received_at)
    for other in decision.possible_duplicates:
        await store.flag_possible_duplicate(session, owner.client_id, other, actor=IDENTITY_ACTOR)
    summary = new_card.summary if new_card else await store.client_summary(session, owner.client_id)
    # Proven claims taken onto a new card are more to reach it by: read it then.
    reach = new_card.reach if new_card and not decision.proven_claims else await reach_of(
        session, owner.client_id, owner.person_id, prefers=summary.reply_channel)
    return ClientMatch(
        client_id=owner.client_id, person_id=owner.person_id, display_name=summary.name,
        first_contact=decision.first_contact and not machine, match=decision.match,
        account_manager=summary.account_manager,
        sla_tier=summary.sla_tier, possible_duplicates=decision.possible_duplicates,
        organisation=summary.organisation, tags=list(summary.tags), contracts=list(summary.contracts),
        reach=reach,
    )


@asynccontextmanager
async def senders_read_together(session: AsyncSession, contacts: Iterable[Contact],
                                policy: MatchPolicy) -> AsyncIterator[None]:
    """What identifying ``contacts`` reads of their senders, read for all of them in two statements: who owns
    their identifiers (:func:`.owners.owners_read_together`) and which organisation uses each one's mail domain
    (:func:`organisation_domains.read_together`). A batch of contacts identified inside the block asks the
    database once for these instead of twice a contact; what a contact of the batch writes is asked again."""
    wanted: list[Identifier] = []
    domains: list[str] = []
    for contact in contacts:
        try:
            identifiers = sender_identifiers(contact.sender, policy.region, policy.email)
        except NoUsableIdentifier:
            continue
        wanted += identifiers
        domain = next((i.domain for i in identifiers if i.kind == EMAIL), None)
        if domain is not None and policy.is_corporate(domain):
            domains.append(domain)
    async with owners_read_together(session, wanted), organisation_domains.read_together(session, domains):
        yield


async def _absorb_shared_contact(session: AsyncSession, decision: Decision, owner: Owner,
                                 wanted: list[Identifier], owners: dict[tuple[str, str], Owner]) -> Owner:
    """Telegram contact sharing: merge the messenger's provisional card into the phone's card."""
    assert decision.absorb is not None
    messenger_person = next((owners[i.key].person_id for i in wanted
                             if i.key in owners and owners[i.key].client_id == decision.absorb), None)
    await merge_cards(session, target=owner.client_id, source=decision.absorb, actor=IDENTITY_ACTOR,
                      reason="messenger user shared the phone number of this card")
    if owner.person_id is not None and messenger_person is not None:
        await fold_person(session, source=messenger_person, target=owner.person_id)
        return owner
    return Owner(owner.client_id, owner.person_id or messenger_person)


async def _machine_senders(session: AsyncSession) -> Owner:
    """The one card that collects contacts machines wrote from addresses no card has."""
    return await _shared_card(session, MACHINE_SENDERS, MACHINE_SENDERS_NAME, tag="automated")


async def _unknown_sender(session: AsyncSession, contact: Contact, channel: str) -> ClientMatch:
    owner = await _shared_card(session, UNKNOWN_SENDERS, UNKNOWN_SENDERS_NAME, tag="unknown-sender")
    await store.record_contact(session, owner, channel=channel, contact_id=contact.contact_id,
                               occurred_at=contact.received_at)
    summary = await store.client_summary(session, owner.client_id)
    return ClientMatch(client_id=owner.client_id, display_name=summary.name, first_contact=False,
                       match=MatchKind.UNKNOWN_SENDER, sla_tier=summary.sla_tier, tags=list(summary.tags))


async def _shared_card(session: AsyncSession, reserved: Identifier, name: str, *, tag: str) -> Owner:
    """A card that collects contacts of senders who have none of their own, made on first use.

    Found by a reserved identifier, so ``UNIQUE(kind, value)`` keeps two concurrent first contacts from
    making two (the loser's transaction fails and is retried, and finds the winner's card).
    """
    owners = await owners_of(session, [reserved])
    if reserved.key in owners:
        return Owner(owners[reserved.key].client_id, None)
    client_id = await store.create_client(session, kind="org", name=name, provisional=False, tags=[tag])
    await store.add_identifiers(session, Owner(client_id, None), [reserved])
    return Owner(client_id, None)


async def _colleague(session: AsyncSession, contact: Contact, wanted: list[Identifier],
                     policy: MatchPolicy) -> Owner | None:
    """A new sender writing from a known organisation's own mail domain joins it as a new contact person."""
    domain = next((i.domain for i in wanted if i.kind == EMAIL), None)
    if domain is None or not policy.is_corporate(domain):
        return None
    client_id = await organisation_domains.organisation_of_domain(session, domain)
    if client_id is None:
        return None
    return Owner(client_id, await store.create_person(session, client_id, contact.sender.name))


async def _provisional_card(session: AsyncSession, contact: Contact, channel: str, wanted: list[Identifier],
                            new: list[Identifier], proof: str) -> NewCard:
    """A card for someone never seen, with ``new`` (the verified ones by ``proof``) and this contact: an
    organisation when the channel named one, else a person.

    Without a name the card is called by its strongest identifier, as helpdesks do, so an agent sees
    something they can recognise; ``provisional`` tells them nobody has checked it yet.
    """
    sender = contact.sender
    username = sender.messenger.username if sender.messenger else None
    name = sender.organisation or sender.name or username or wanted[0].raw
    return await create_provisional_card(
        session, kind="org" if sender.organisation else "person", name=name[:500], person_name=sender.name,
        new=new, verified_by=proof, channel=channel, contact_id=contact.contact_id,
        occurred_at=contact.received_at)


class IdentifierTaken(Exception):
    """An identifier of a new card already belongs to another card (the message says which kind)."""

    def __init__(self, kind: str, client_id: uuid.UUID) -> None:
        super().__init__(f"a {kind} of this card already belongs to client {client_id}")
        self.kind = kind
        self.client_id = client_id


async def register_card(session: AsyncSession, new: NewClient, policy: MatchPolicy) -> uuid.UUID:
    """Create a confirmed card with its persons, identifiers and contracts.

    Raises :class:`~priyom_identity.canonical_identifiers.InvalidIdentifier` for a bad phone and
    :class:`IdentifierTaken` when an identifier is another card's: cards are never merged implicitly.
    """
    own = parse_identifiers(new.phones, [str(e) for e in new.emails], policy)
    per_person = [parse_identifiers(p.phones, [str(e) for e in p.emails], policy, p.messengers, p.portal_login)
                  for p in new.persons]
    everything = own + [i for group in per_person for i in group]
    taken = await owners_of(session, everything)
    if taken:
        identifier = next(i for i in everything if i.key in taken)
        raise IdentifierTaken(identifier.kind, taken[identifier.key].client_id)
    client_id = await store.create_client(session, kind=new.kind, name=new.name, provisional=False,
                                          sla_tier=new.sla_tier, account_manager=new.account_manager,
                                          legal_id=new.legal_id, region=new.region, tags=new.tags,
                                          notes=new.notes)
    await store.add_contracts(session, client_id, new.contracts)
    seen: set[tuple[str, str]] = set()

    def first_time(group: list[Identifier]) -> list[Identifier]:
        # The same number typed twice in one request is one identifier, kept where it first appeared.
        fresh = [i for i in group if i.key not in seen]
        seen.update(i.key for i in fresh)
        return list({i.key: i for i in fresh}.values())

    await store.add_identifiers(session, Owner(client_id, None), first_time(own))
    for person, group in zip(new.persons, per_person, strict=True):
        person_id = await store.create_person(session, client_id, person.full_name, person.position,
                                              person.role)
        await store.add_identifiers(session, Owner(client_id, person_id), first_time(group))
    return client_id

