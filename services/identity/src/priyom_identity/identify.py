"""The two ways a card comes to be: a contact is identified (matched or a provisional card), or a person
registers a card through the API. Each runs inside the caller's transaction and raises ``IntegrityError``
when a concurrent writer claimed one of its identifiers first; the caller retries with a fresh reading.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ClientMatch, Contact

from . import store
from .cards import NewClient
from .matching import EMAIL, PHONE, Identifier, Owner, decide, sender_identifiers
from .normalise import normalise_email, normalise_phone


async def identify_contact(session: AsyncSession, contact: Contact, channel: str, region: str) -> ClientMatch:
    """Match ``contact`` to a card, or create a provisional one; record the contact on the card.

    Raises :class:`~priyom_identity.matching.NoUsableIdentifier` when the sender cannot be identified.
    """
    wanted = sender_identifiers(contact.sender, region)
    decision = decide(wanted, await store.owners_of(session, wanted))
    owner = decision.owner
    if owner is None:
        owner = await _provisional_card(session, contact, wanted)
    await store.add_identifiers(session, owner, decision.new_identifiers)
    await store.record_contact(session, owner, channel=channel, contact_id=contact.contact_id,
                               occurred_at=contact.received_at)
    summary = await store.client_summary(session, owner.client_id)
    return ClientMatch(
        client_id=owner.client_id, person_id=owner.person_id, display_name=summary.name,
        first_contact=decision.first_contact, match=decision.match, account_manager=summary.account_manager,
        sla_tier=summary.sla_tier, possible_duplicates=decision.possible_duplicates,
    )


async def _provisional_card(session: AsyncSession, contact: Contact, wanted: list[Identifier]) -> Owner:
    """A card for someone never seen: an organisation when the channel named one, else a person.

    Without a name the card is called by its strongest identifier, as helpdesks do, so an agent sees
    something they can recognise; ``provisional`` tells them nobody has checked it yet.
    """
    sender = contact.sender
    username = sender.messenger.username if sender.messenger else None
    name = sender.organisation or sender.name or username or wanted[0].raw
    client_id = await store.create_client(
        session, kind="org" if sender.organisation else "person", name=name[:500], provisional=True,
        first_contact_at=contact.received_at,
    )
    person_id = await store.create_person(session, client_id, sender.name)
    return Owner(client_id, person_id)


class IdentifierTaken(Exception):
    """An identifier of a new card already belongs to another card (the message says which kind)."""

    def __init__(self, kind: str, client_id: uuid.UUID) -> None:
        super().__init__(f"a {kind} of this card already belongs to client {client_id}")
        self.kind = kind
        self.client_id = client_id


async def register_card(session: AsyncSession, new: NewClient, region: str) -> uuid.UUID:
    """Create a confirmed card with its persons and identifiers.

    Raises :class:`~priyom_identity.normalise.InvalidIdentifier` for a bad phone and
    :class:`IdentifierTaken` when an identifier is another card's: cards are never merged implicitly.
    """
    def parse(phones: list[str], emails: list[str]) -> list[Identifier]:
        parsed = [Identifier(PHONE, (n := normalise_phone(p, region)).e164, p, n.extension) for p in phones]
        return parsed + [Identifier(EMAIL, normalise_email(e), e) for e in emails]

    own = parse(new.phones, [str(e) for e in new.emails])
    per_person = [parse(p.phones, [str(e) for e in p.emails]) for p in new.persons]
    everything = own + [i for group in per_person for i in group]
    taken = await store.owners_of(session, everything)
    if taken:
        identifier = next(i for i in everything if i.key in taken)
        raise IdentifierTaken(identifier.kind, taken[identifier.key].client_id)
    client_id = await store.create_client(session, kind=new.kind, name=new.name, provisional=False,
                                          sla_tier=new.sla_tier, account_manager=new.account_manager)
    seen: set[tuple[str, str]] = set()

    def first_time(group: list[Identifier]) -> list[Identifier]:
        # The same number typed twice in one request is one identifier, kept where it first appeared.
        fresh = [i for i in group if i.key not in seen]
        seen.update(i.key for i in fresh)
        return list({i.key: i for i in fresh}.values())

    await store.add_identifiers(session, Owner(client_id, None), first_time(own))
    for person, group in zip(new.persons, per_person, strict=True):
        person_id = await store.create_person(session, client_id, person.full_name, person.position)
        await store.add_identifiers(session, Owner(client_id, person_id), first_time(group))
    return client_id
